// npm start's summary of a finished run: read once through the local Step Functions API and built by the same code as
// `knn-pipeline show --json` (buildRunReport), plus what only a local run has: exported files, training log, leftovers.
import path from 'node:path';
import { STAGE_ENV } from '../../src/config/stage';
import { s3Client, sfnClient } from '../../src/aws/clients';
import type { RunConfig } from '../../src/domain/runConfig';
import type { RunDenial, RunSummary } from '../../src/artifacts/summary';
import type { Denial } from '../../local/iam/authorizer';
import { LOCAL, stateMachineArn, type LocalCloud } from '../../local/cloud';
import { describeExecution, executionHistory, runConfigFromHistory, stateOutput } from '../common/executions';
import { artifactKeys, buildRunReport, readPredictions } from '../common/report';
import type { Target } from '../common/target';
import { exportRunArtifacts } from './exportArtifacts';

/** The embedded local cloud as the shared readers see a stage: its Step Functions API, S3 and SageMaker. */
export function localCloudTarget(cloud: LocalCloud): Target {
  return {
    kind: 'local',
    description: `local cloud (${cloud.env.AWS_ENDPOINT_URL_SFN})`,
    flags: '--local',
    region: LOCAL.region,
    stateMachineArn,
    bucket: LOCAL.bucket,
    rawPrefix: cloud.rawPrefix,
    runsPrefix: cloud.env[STAGE_ENV.runsPrefix] ?? 'runs/',
    sfn: sfnClient(),
    s3: s3Client(),
    sageMaker: cloud.sageMakerClient,
    pollMs: 50,
  };
}

export interface LocalRunResult {
  summary: RunSummary;
  /** The run configuration Prepare produced (absent when Prepare failed). */
  run?: RunConfig;
  /** predictions.csv, for the validation table (absent when the run never got to Evaluate). */
  predictions?: string;
}

/**
 * Reads the finished execution once (DescribeExecution + GetExecutionHistory), builds its run report, and copies the
 * run's objects to `<dir>/runs/<runId>/` so people can open them. `states` is the live view's visit timeline.
 */
export async function summariseRun(
  cloud: LocalCloud,
  executionArn: string,
  states: RunSummary['states'],
  dir: string,
): Promise<LocalRunResult> {
  const target = localCloudTarget(cloud);
  const execution = await describeExecution(target, executionArn);
  const events = await executionHistory(target, executionArn);
  const report = await buildRunReport(target, execution, events);
  const run = runConfigFromHistory(events);
  const split = stateOutput<{ split?: { train: number; test: number } }>(events, 'Split')?.split;
  const succeeded = report.status === 'SUCCEEDED';
  const { endpoints, endpointConfigs, models } = cloud.sageMaker.listResources();
  const summary: RunSummary = {
    status: execution.status!,
    ...(succeeded ? {} : { error: report.error, cause: report.cause }),
    executionName: report.executionName,
    runId: report.runId,
    durationMs: report.durationMs,
    split: split ? { train: split.train, test: split.test } : null,
    metrics: report.metrics,
    classes: report.classes,
    gate: report.gate,
    ...(report.crossValidation ? { crossValidation: report.crossValidation } : {}),
    ...(report.tuning ? { tuning: report.tuning } : {}),
    ...(report.serving ? { serving: report.serving } : {}),
    artifacts: run ? await exportArtifacts(run, dir) : {},
    trainingLog: run ? cloud.sageMaker.trainingJobLog(run.names.trainingJob) : [],
    states,
    leftovers: { endpoints, endpointConfigs, models },
    denials: distinctDenials(cloud.denials),
  };
  const sampleSize = Number(run?.training.hyperParameters.sample_size);
  if (split && sampleSize < split.train) summary.sampledTrainingRows = sampleSize;
  const predictions = run && report.metrics ? await readPredictions(target, run) : undefined;
  return { summary, run, predictions };
}

async function exportArtifacts(run: RunConfig, dir: string): Promise<RunSummary['artifacts']> {
  const localRoot = path.join(dir, 'runs', run.runId);
  const exported = await exportRunArtifacts(run.bucket, run.keys.root, localRoot);
  const artifacts: RunSummary['artifacts'] = {};
  for (const [name, key] of Object.entries(artifactKeys(run))) {
    artifacts[name] = { s3: `s3://${run.bucket}/${key}`, local: exported.get(key) ?? null };
  }
  artifacts.root = { s3: `s3://${run.bucket}/${run.keys.root}`, local: localRoot };
  return artifacts;
}

/** The cloud's denials for the summary, each distinct one once (a retried request is denied again the same way). */
export function distinctDenials(denials: readonly Denial[]): RunDenial[] {
  const seen = new Map<string, RunDenial>();
  for (const { principalArn, action, resource, message } of denials) {
    const key = JSON.stringify([principalArn, action, resource, message]);
    if (!seen.has(key)) seen.set(key, { principal: principalArn, action, resource, message });
  }
  return [...seen.values()];
}
