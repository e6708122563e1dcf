// The Iris report of a real local pipeline run: the one the pipeline wrote if it writes one, else rendered here
// from the artefacts that run wrote.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runLocal } from '../../../cli/start/runLocal';
import { costFromRun, renderRunReport, reportInputFromArtifacts } from '../../../src/report';

const ROOT = path.resolve(__dirname, '../../..');
/** The local stage's instances (src/config/stage.ts defaults); the run summary does not carry the run config. */
const LOCAL_INSTANCES = {
  training: { instanceType: 'ml.m5.large', instanceCount: 1 },
  hosting: { instanceType: 'ml.m5.large', instanceCount: 1 },
};

/** The summary has no run config; the local training log prints the hyperparameters it trained with. */
function hyperParametersFromLog(log: string[]): Record<string, string> | undefined {
  const line = log.find((entry) => entry.includes('Training with hyperparameters {'));
  const json = line && /Training with hyperparameters (\{.*?\})/.exec(line)?.[1];
  return json ? (JSON.parse(json) as Record<string, string>) : undefined;
}

export async function irisReportFromLocalRun(dir: string): Promise<{ html: string; writtenByPipeline: boolean }> {
  const summary = await runLocal({ data: path.join(ROOT, 'data/iris.csv'), dir }, () => undefined);
  if (summary.status !== 'SUCCEEDED')
    throw new Error(`local run ${summary.status}: ${summary.error}: ${summary.cause}`);
  const local = (name: string): string => {
    const file = summary.artifacts[name]?.local;
    if (!file) throw new Error(`the local run exported no ${name} artefact`);
    return file;
  };
  const wired = summary.artifacts.report?.local;
  if (wired && existsSync(wired)) return { html: readFileSync(wired, 'utf8'), writtenByPipeline: true };
  const read = (name: string) => readFileSync(local(name), 'utf8');
  const bytes = (name: string) => new Uint8Array(readFileSync(local(name)));
  const metrics = JSON.parse(read('metrics'));
  const input = reportInputFromArtifacts({
    manifest: JSON.parse(read('manifest')),
    metrics,
    predictionsCsv: read('predictions'),
    preparedFeaturesCsv: read('preparedFeatures'),
    preparedLabels: bytes('preparedLabels'),
    split: JSON.parse(read('split')),
    hyperParameters: hyperParametersFromLog(summary.trainingLog),
    executionPath: summary.states,
    cost: costFromRun(LOCAL_INSTANCES, metrics.training?.BillableTimeInSeconds, summary.states),
    generatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  return { html: await renderRunReport(input), writtenByPipeline: false };
}
