import { executionHistory, stateVisits } from '../src/aws/executions';
import { getObjectJson, objectChunks, putObject } from '../src/aws/objects';
import type { RunConfig } from '../src/domain/runConfig';
import { s3Uri } from '../src/domain/naming';
import {
  costFromRun,
  renderRunReport,
  reportInputFromStreams,
  type ManifestArtifact,
  type MetricsArtifact,
  type SplitArtifact,
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
    await reportInputFromStreams({
      manifest,
      metrics,
      predictions: stream(run.keys.predictions),
      preparedFeatures: stream(run.keys.preparedFeatures),
      preparedLabels: stream(run.keys.preparedLabels),
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
