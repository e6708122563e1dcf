// `npm start`: the whole pipeline offline on one CSV, started the way an upload starts it in AWS.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/aws/clients';
import type { RunSummary } from '../../src/artifacts/summary';
import { LocalCloud, LOCAL, localEnvironment } from '../../local/cloud';
import type { AccountQuotas } from '../../local/sagemaker/quotas';
import { stageDefaultsFromEnv } from '../../src/config/stage';
import { formatDuration } from '../common/format';
import {
  renderCrossValidation,
  renderDenials,
  renderMetrics,
  renderServing,
  renderTuning,
  renderValidationTable,
} from '../common/render';
import { stageParams, type RunOptions } from '../common/runOptions';
import { progressPrinter, stateTimeline } from './progress';
import { summariseRun, type LocalRunResult } from './summary';

/**
 * The local SageMaker's stand-in delays for `npm start`: the same status transitions (a training job is InProgress,
 * an endpoint Creating, before they move on) at a fifth of the local cloud's default pace, so a run spends its time
 * working rather than waiting. Tests and `npm run local` keep the defaults.
 */
const QUICK_SAGEMAKER_TIMING = {
  trainingStartDelayMs: 20,
  endpointCreateDelayMs: 30,
  endpointDeleteDelayMs: 20,
  stopDelayMs: 20,
  transformStartDelayMs: 20,
};

/** Callers in code (tests, bench) may give numbers as the strings a stage parameter holds. */
type Loose<T> = { [K in keyof T]?: T[K] | (T[K] extends number | undefined ? string : never) };

export interface LocalRunOptions extends Loose<RunOptions> {
  /** The CSV to upload under raw/. */
  data: string;
  /** Where the local cloud keeps its objects, logs and exported run folders. */
  dir: string;
  json?: boolean;
  /** IAM enforcement from serverless.yml (default on); `--no-iam` turns it off to debug without it. */
  iam?: boolean;
  /** The local SageMaker account's quotas (`--quota`); none by default. */
  quota?: AccountQuotas;
}

/** Runs the pipeline on one CSV the way an upload does in AWS and returns the summary. */
export async function runLocal(options: LocalRunOptions, log: (line: string) => void): Promise<RunSummary> {
  const params = stageParams(options as RunOptions);
  // Options the deployed functions would refuse as stage parameters (e.g. a serverless endpoint with --serve) are
  // refused here, naming the variable and why, before anything starts.
  stageDefaultsFromEnv(localEnvironment(params));
  mkdirSync(options.dir, { recursive: true });
  const cloud = await LocalCloud.start({
    directory: options.dir,
    params,
    onEvent: progressPrinter(log),
    iam: options.iam,
    sageMakerTiming: QUICK_SAGEMAKER_TIMING,
    sageMakerQuotas: options.quota,
  });
  try {
    return await runOnCloud(cloud, options, log);
  } finally {
    await cloud.close();
  }
}

/** One run on a local cloud already started (runLocal's; tests start their own): upload, wait, summarise, print. */
export async function runOnCloud(
  cloud: LocalCloud,
  options: Pick<LocalRunOptions, 'data' | 'dir'>,
  log: (line: string) => void,
): Promise<RunSummary> {
  const key = `${cloud.rawPrefix}${path.basename(options.data)}`;
  const body = readFileSync(options.data);
  const iam = cloud.authorizer ? 'IAM enforced from serverless.yml' : 'IAM off (--no-iam)';
  log(`Local cloud up: S3 ${cloud.s3.endpoint}, SageMaker ${cloud.sageMaker.endpoint}; ${iam}`);
  log(`Uploading ${options.data} to s3://${LOCAL.bucket}/${key} (the S3 Object Created event starts the pipeline)`);
  const triggered = cloud.nextTriggeredExecution(key);
  await s3Client().send(new PutObjectCommand({ Bucket: LOCAL.bucket, Key: key, Body: body, ContentType: 'text/csv' }));
  const execution = await triggered;
  const record = await execution.done;
  const result = await summariseRun(cloud, record.executionArn, stateTimeline(record.history), options.dir);
  printResult(result, log);
  return result.summary;
}

/** The human view of the summary: training log, validation table, metrics, serving, outcome and files. */
function printResult({ summary, run, predictions }: LocalRunResult, log: (line: string) => void): void {
  if (summary.split && summary.sampledTrainingRows !== undefined) {
    const { train } = summary.split;
    log(
      `\nNote: sample_size ${summary.sampledTrainingRows} < ${train} training rows, so the index holds a seeded random sample of them ` +
        `(as SageMaker's k-NN does); pass --sample-size ${train} to index every training row.`,
    );
  }
  const scoreLines = summary.trainingLog.filter((line) => line.includes('#test_score'));
  if (scoreLines.length)
    log(`\nTraining log (${run?.names.trainingJob}):\n${scoreLines.map((l) => `  ${l}`).join('\n')}`);
  if (predictions) log(`\n${renderValidationTable(predictions)}`);
  if (summary.crossValidation) log(`\n${renderCrossValidation(summary.crossValidation)}`);
  if (summary.tuning) log(`\n${renderTuning(summary.tuning)}`);
  if (summary.metrics) log(`\n${renderMetrics(summary.metrics, summary.classes, summary.gate)}`);
  if (summary.serving) log(`\n${renderServing(summary.serving)}`);
  if (summary.denials.length) log(`\n${renderDenials(summary.denials)}`);
  log(`\nExecution ${summary.executionName}: ${summary.status} in ${formatDuration(summary.durationMs)}`);
  if (summary.status !== 'SUCCEEDED') log(`  ${summary.error}: ${summary.cause}`);
  if (run) {
    log(`Artifacts: s3://${run.bucket}/${run.keys.root} → ${summary.artifacts.root.local}`);
    for (const name of ['report', 'predictions', 'metrics', 'model']) {
      const local = summary.artifacts[name]?.local;
      if (local) log(`  ${name.padEnd(12)} ${local}`);
    }
  }
  const left = Object.values(summary.leftovers).flat().length;
  log(left === 0 ? 'SageMaker resources left: none' : `SageMaker resources left: ${JSON.stringify(summary.leftovers)}`);
}
