#!/usr/bin/env node
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { addRunOptions, integer } from './operate/runOptions';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../src/aws/clients';
import { getObjectJson, getObjectText } from '../src/aws/objects';
import { LocalCloud, LOCAL, type StageParams } from '../local/cloud';
import type { ExecutionRecord } from '../local/stepfunctions/runner';
import { progressPrinter, stateTimeline, formatDuration } from './progress';
import { runFromHistory, stateOutput } from './summary';
import { renderCrossValidation, renderMetrics, renderServing, renderValidationTable } from './render';
import { exportRunArtifacts } from './artifacts';

const PROJECT_ROOT = path.resolve(__dirname, '..');

type Setting = string | number;

export interface LocalRunOptions {
  data: string;
  label?: string;
  k?: Setting;
  sampleSize?: Setting;
  predictorType?: string;
  seed?: Setting;
  testFraction?: Setting;
  folds?: Setting;
  serve?: boolean;
  json?: boolean;
  dir: string;
}

export function program(): Command {
  const command = new Command('npm start --')
    .description(
      'Run the whole pipeline offline: local S3, local SageMaker and the Step Functions definition, on a CSV.',
    )
    .option('--data <file>', 'CSV file with a header row and a label column', path.join(PROJECT_ROOT, 'data/iris.csv'));
  return addRunOptions(command)
    .option('--folds <k>', 'k-fold cross-validation (2-20 folds) before training the final model', integer('folds', 2))
    .option(
      '--serve',
      'serving mode: promote the model to the stable endpoint if it passes the gate and beats the current one',
    )
    .option('--json', 'print one JSON summary on stdout and nothing else')
    .option('--dir <dir>', 'where the local cloud keeps its data', path.join(PROJECT_ROOT, '.local-cloud'));
}

/** The run options become the local stage's parameters, as `serverless.yml` params are for a deployed stage. */
function stageParams(options: LocalRunOptions): StageParams {
  const text = (value: Setting | undefined) => (value === undefined ? undefined : String(value));
  return {
    labelColumn: options.label,
    k: text(options.k),
    sampleSize: text(options.sampleSize),
    predictorType: options.predictorType,
    splitSeed: text(options.seed),
    testFraction: text(options.testFraction),
    crossValidationFolds: text(options.folds),
    serve: options.serve ? 'true' : undefined,
  };
}

/** Runs the pipeline on one CSV the way an upload does in AWS and returns the summary. */
export async function runLocal(options: LocalRunOptions, log: (line: string) => void): Promise<Record<string, any>> {
  mkdirSync(options.dir, { recursive: true });
  const cloud = await LocalCloud.start({
    directory: options.dir,
    params: stageParams(options),
    onEvent: progressPrinter(log),
  });
  try {
    const key = `${cloud.rawPrefix}${path.basename(options.data)}`;
    const body = readFileSync(options.data);
    log(`Local cloud up: S3 ${cloud.s3.endpoint}, SageMaker ${cloud.sageMaker.endpoint}`);
    log(`Uploading ${options.data} to s3://${LOCAL.bucket}/${key} (the S3 Object Created event starts the pipeline)`);
    const triggered = cloud.nextTriggeredExecution(key);
    await s3Client().send(
      new PutObjectCommand({ Bucket: LOCAL.bucket, Key: key, Body: body, ContentType: 'text/csv' }),
    );
    const execution = await triggered;
    const record = await execution.done;
    return await summarise(cloud, record, options, log);
  } finally {
    await cloud.close();
  }
}

async function summarise(
  cloud: LocalCloud,
  record: ExecutionRecord,
  options: LocalRunOptions,
  log: (line: string) => void,
) {
  const run = runFromHistory(record);
  const split = stateOutput<{ split?: { train: number; test: number } }>(record, 'Split')?.split;
  const timeline = stateTimeline(record.history).map((s) => ({
    state: s.name,
    status: s.status,
    durationMs: s.exitedAt !== undefined ? s.exitedAt - s.enteredAt : null,
    ...(s.error ? { error: s.error } : {}),
  }));
  const summary: Record<string, any> = {
    status: record.status,
    ...(record.status !== 'SUCCEEDED' ? { error: record.error ?? null, cause: record.cause ?? null } : {}),
    executionName: record.name,
    runId: run?.runId ?? null,
    durationMs: (record.stopDate?.getTime() ?? Date.now()) - record.startDate.getTime(),
    split: split ? { train: split.train, test: split.test } : null,
    metrics: null,
    gate: null,
    artifacts: {},
    trainingLog: [] as string[],
    states: timeline,
  };
  if (run) {
    const job = run.names.trainingJob;
    summary.trainingLog = cloud.sageMaker.trainingJobLog(job);
    const artifactKeys: Record<string, string> = {
      manifest: run.keys.manifest,
      preparedDataset: run.keys.preparedDataset,
      split: run.keys.split,
      trainChannel: run.keys.trainChannel,
      testChannel: run.keys.testChannel,
      model: `${run.keys.trainingOutput}${job}/output/model.tar.gz`,
      metrics: run.keys.metrics,
      predictions: run.keys.predictions,
      report: run.keys.report,
      serving: run.keys.serving,
    };
    const localRoot = path.join(options.dir, 'runs', run.runId);
    const exported = await exportRunArtifacts(run.bucket, run.keys.root, localRoot);
    for (const [name, key] of Object.entries(artifactKeys)) {
      summary.artifacts[name] = { s3: `s3://${run.bucket}/${key}`, local: exported.get(key) ?? null };
    }
    summary.artifacts.root = { s3: `s3://${run.bucket}/${run.keys.root}`, local: localRoot };
    try {
      const metricsFile = await getObjectJson<any>({ bucket: run.bucket, key: run.keys.metrics });
      summary.metrics = metricsFile.metrics;
      summary.classes = metricsFile.classes;
      summary.gate = metricsFile.gate;
      if (metricsFile.crossValidation) summary.crossValidation = metricsFile.crossValidation;
      if (metricsFile.promotion && metricsFile.promotion.decision !== 'off') {
        const recorded = await getObjectJson<any>({ bucket: run.bucket, key: run.keys.serving }).catch(() => undefined);
        summary.serving = {
          decision: metricsFile.promotion.decision,
          reason: metricsFile.promotion.reason,
          outcome: recorded?.outcome ?? null,
          message: recorded?.message ?? null,
        };
      }
      summary.predictions = await getObjectText({ bucket: run.bucket, key: run.keys.predictions });
    } catch {
      // No evaluation was written (the run failed before Evaluate).
    }
  }
  const resources = cloud.sageMaker.listResources();
  summary.leftovers = {
    endpoints: resources.endpoints,
    endpointConfigs: resources.endpointConfigs,
    models: resources.models,
  };

  const sampleSize = Number(run?.training.hyperParameters.sample_size);
  if (split && sampleSize < split.train) {
    summary.sampledTrainingRows = sampleSize;
    log(
      `\nNote: sample_size ${sampleSize} < ${split.train} training rows, so the index holds a seeded random sample of them ` +
        `(as SageMaker's k-NN does); pass --sample-size ${split.train} to index every training row.`,
    );
  }
  const scoreLines = (summary.trainingLog as string[]).filter((line) => line.includes('#test_score'));
  if (scoreLines.length)
    log(`\nTraining log (${run?.names.trainingJob}):\n${scoreLines.map((l) => `  ${l}`).join('\n')}`);
  if (summary.predictions) log(`\n${renderValidationTable(summary.predictions)}`);
  if (summary.crossValidation) log(`\n${renderCrossValidation(summary.crossValidation)}`);
  if (summary.metrics) log(`\n${renderMetrics(summary.metrics, summary.classes ?? null, summary.gate)}`);
  if (summary.serving) log(`\n${renderServing(summary.serving)}`);
  log(`\nExecution ${record.name}: ${record.status} in ${formatDuration(summary.durationMs)}`);
  if (record.status !== 'SUCCEEDED') log(`  ${record.error}: ${record.cause}`);
  if (run) {
    log(`Artifacts: s3://${run.bucket}/${run.keys.root} → ${summary.artifacts.root.local}`);
    for (const name of ['report', 'predictions', 'metrics', 'model']) {
      if (summary.artifacts[name]?.local) log(`  ${name.padEnd(12)} ${summary.artifacts[name].local}`);
    }
  }
  const left = Object.values(summary.leftovers).flat().length;
  log(left === 0 ? 'SageMaker resources left: none' : `SageMaker resources left: ${JSON.stringify(summary.leftovers)}`);
  delete summary.predictions;
  return summary;
}

async function main(argv: string[]) {
  // The SDK's "Node 22 needed from 2027" notice is for the Lambda runtime decision, not for a local run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const cli = program();
  cli.parse(argv);
  const options = cli.opts<LocalRunOptions>();
  const json = Boolean(options.json);
  // With --json, stdout carries exactly one JSON object; people-facing progress goes to stderr.
  const log = json
    ? (line: string) => process.stderr.write(`${line}\n`)
    : (line: string) => process.stdout.write(`${line}\n`);
  const summary = await runLocal(options, log);
  if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.exitCode = summary.status === 'SUCCEEDED' ? 0 : 1;
}

if (require.main === module) {
  main(process.argv).catch((error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  });
}
