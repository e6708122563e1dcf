import { executionHistory, stateVisits } from '../src/aws/executions';
import { getObjectJson, objectChunks, putObject } from '../src/aws/objects';
import type { RunConfig } from '../src/domain/runConfig';
import type { Trials } from '../src/artifacts/schemas';
import { s3Uri } from '../src/domain/naming';
import {
  costFromRun,
  readRunData,
  renderRunReportAsDataArrives,
  reportInputBeforeData,
  reportInputFromRunData,
  type ExecutionStep,
  type ManifestArtifact,
  type MetricsArtifact,
  type ServingArtifact,
  type SplitArtifact,
  type TransformArtifact,
} from '../src/report';
import { lambdaHandler } from '../src/lambda/handler';
import { toError } from '../src/errors';
import { logger } from '../src/log/logger';

export interface ReportEvent {
  run: RunConfig;
  /** $$.Execution.Id, to draw the path the execution took (GetExecutionHistory). */
  executionArn?: string;
}

export interface ReportResult {
  reportUri: string;
  bytes: number;
}

/** serving.json: only serving-mode runs record it; without ListBucket a missing key answers 403: any failure = none. */
async function servingOutcome(run: RunConfig, metrics: MetricsArtifact): Promise<ServingArtifact | null> {
  if (!metrics.promotion || metrics.promotion.decision === 'off') return null;
  return getObjectJson<ServingArtifact>({ bucket: run.bucket, key: run.keys.serving }).catch(() => null);
}

/** The states the execution went through before Report (GetExecutionHistory); undefined, with a warning, if denied. */
async function executionPathOf(executionArn: string | undefined): Promise<ExecutionStep[] | undefined> {
  if (!executionArn) return undefined;
  try {
    // The Report state itself is still running: the path is everything before it.
    const visits = stateVisits(await executionHistory(executionArn)).filter((visit) => visit.status !== 'running');
    return visits.map((visit) => ({
      state: visit.name,
      status: visit.status,
      durationMs: visit.exitedAt ? visit.exitedAt.getTime() - visit.enteredAt.getTime() : null,
      ...(visit.error ? { error: visit.error } : {}),
    }));
  } catch (error) {
    // The report is still worth having without the path; say why it is missing.
    logger.warn('Execution history unavailable; the report leaves out the execution path', { error: toError(error) });
    return undefined;
  }
}

/**
 * Renders report.html for a run from the artifacts it wrote, after cleanup (so the endpoint's lifetime is known).
 * predictions.csv and the prepared dataset are read as streams, keeping only what the report shows: its memory does
 * not grow with the dataset.
 */
export const handler = lambdaHandler(async ({ run, executionArn }: ReportEvent): Promise<ReportResult> => {
  logger.appendKeys({ runId: run.runId });
  const ref = (key: string) => ({ bucket: run.bucket, key });
  const stream = (key: string) => () => objectChunks(ref(key));
  const [manifest, metrics, split] = await Promise.all([
    getObjectJson<ManifestArtifact>(ref(run.keys.manifest)),
    getObjectJson<MetricsArtifact>(ref(run.keys.metrics)),
    getObjectJson<SplitArtifact>(ref(run.keys.split)),
  ]);
  const started = performance.now();
  // The big files start streaming in now; serving.json and the execution's path are fetched meanwhile.
  const dataRead = readRunData({
    manifest,
    metrics,
    split,
    predictions: stream(run.keys.predictions),
    preparedFeatures: stream(run.keys.preparedFeatures),
    preparedLabels: stream(run.keys.preparedLabels),
  });
  // Awaited below; until then a failure must not count as an unhandled rejection (which ends the runtime).
  dataRead.catch(() => undefined);
  const [serving, executionPath, trials, transform] = await Promise.all([
    servingOutcome(run, metrics),
    executionPathOf(executionArn),
    run.tuning?.enabled ? getObjectJson<Trials>(ref(run.keys.trials)) : null,
    manifest.features?.transformed ? getObjectJson<TransformArtifact>(ref(run.keys.transform)) : null,
  ]);
  const context = {
    manifest,
    metrics,
    split,
    // With a feature transform, Upload trained on its output width (the run config keeps Prepare's raw count).
    hyperParameters: transform
      ? { ...run.training.hyperParameters, feature_dim: String(transform.outputFeatures.length) }
      : run.training.hyperParameters,
    executionPath,
    serving,
    trials,
    transform,
    cost: costFromRun(run, metrics.training?.BillableTimeInSeconds, executionPath),
    generatedAt: new Date().toISOString(),
  };
  let read = started;
  // The sections that need no data (class balance, confusion matrix, execution path, …) render while it streams.
  const html = await renderRunReportAsDataArrives(
    reportInputBeforeData(context),
    dataRead.then((data) => {
      read = performance.now();
      return reportInputFromRunData(context, data);
    }),
  );
  const rendered = performance.now();
  await putObject(ref(run.keys.report), html, 'text/html; charset=utf-8');
  const bytes = Buffer.byteLength(html);
  logger.info('Wrote report', {
    bytes,
    // Reading and rendering overlap: the rest of the rendering after the data had been read.
    readMs: Math.round(read - started),
    renderMs: Math.round(rendered - read),
    writeMs: Math.round(performance.now() - rendered),
  });
  return { reportUri: s3Uri(run.bucket, run.keys.report), bytes };
});
