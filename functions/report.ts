import { executionHistory, stateVisits } from '../src/aws/executions';
import { getObjectJson, getObjectText, putObject } from '../src/aws/objects';
import { readPreparedLabels } from '../src/channels/prepared';
import type { RunConfig } from '../src/domain/runConfig';
import { s3Uri } from '../src/domain/naming';
import {
  costFromRun,
  renderRunReport,
  reportInputFromArtifacts,
  type ManifestArtifact,
  type MetricsArtifact,
  type SplitArtifact,
} from '../src/report';
import { lambdaHandler } from '../src/lambda/handler';
import { toError } from '../src/errors';
import { logger } from '../src/log/logger';

/** The prepared rows as label-first CSV, for the report's scatter matrix. */
async function labelFirstPreparedCsv(run: RunConfig): Promise<string> {
  const ref = (key: string) => ({ bucket: run.bucket, key });
  const [features, labels] = await Promise.all([
    getObjectText(ref(run.keys.preparedFeatures)),
    readPreparedLabels(ref(run.keys.preparedLabels)),
  ]);
  const lines = features.split('\n');
  return labels.reduce((csv, label, row) => `${csv}${label},${lines[row]}\n`, '');
}

export interface ReportEvent {
  run: RunConfig;
  /** $$.Execution.Id, to draw the path the execution took (GetExecutionHistory). */
  executionArn?: string;
}

export interface ReportResult {
  reportUri: string;
  bytes: number;
}

/** Renders report.html for a run from the artifacts it wrote, after cleanup (so the endpoint's lifetime is known). */
export const handler = lambdaHandler(async ({ run, executionArn }: ReportEvent): Promise<ReportResult> => {
  logger.appendKeys({ runId: run.runId });
  const ref = (key: string) => ({ bucket: run.bucket, key });
  const [manifest, metrics, predictionsCsv, preparedDatasetCsv, split] = await Promise.all([
    getObjectJson<ManifestArtifact>(ref(run.keys.manifest)),
    getObjectJson<MetricsArtifact>(ref(run.keys.metrics)),
    getObjectText(ref(run.keys.predictions)),
    labelFirstPreparedCsv(run),
    getObjectJson<SplitArtifact>(ref(run.keys.split)),
  ]);
  // Only serving-mode runs record serving.json; without ListBucket a missing key answers 403: any failure means none.
  const serving =
    metrics.promotion && metrics.promotion.decision !== 'off'
      ? await getObjectJson<{ outcome?: string; message?: string }>(ref(run.keys.serving)).catch(() => null)
      : null;
  let executionPath;
  if (executionArn) {
    try {
      // The Report state itself is still running: the path is everything before it.
      const visits = stateVisits(await executionHistory(executionArn)).filter((visit) => visit.status !== 'running');
      executionPath = visits.map((visit) => ({
        state: visit.name,
        status: visit.status,
        durationMs: visit.exitedAt ? visit.exitedAt.getTime() - visit.enteredAt.getTime() : null,
        ...(visit.error ? { error: visit.error } : {}),
      }));
    } catch (error) {
      // The report is still worth having without the path; say why it is missing.
      logger.warn('Execution history unavailable; the report leaves out the execution path', { error: toError(error) });
    }
  }
  const html = await renderRunReport(
    reportInputFromArtifacts({
      manifest,
      metrics,
      predictionsCsv,
      preparedDatasetCsv,
      split,
      hyperParameters: run.training.hyperParameters,
      executionPath,
      serving,
      cost: costFromRun(run, metrics.training?.BillableTimeInSeconds, executionPath),
      generatedAt: new Date().toISOString(),
    }),
  );
  await putObject(ref(run.keys.report), html, 'text/html; charset=utf-8');
  logger.info('Wrote report', { bytes: Buffer.byteLength(html) });
  return { reportUri: s3Uri(run.bucket, run.keys.report), bytes: Buffer.byteLength(html) };
});
