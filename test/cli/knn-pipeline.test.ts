/**
 * `knn-pipeline` against the local cloud of `npm run local` (started here on free ports): the commands run in-process
 * with captured output, and once through the real bin. Training is slowed (3 s) so a run can be stopped mid-training.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import type { RunReport } from '../../cli/common/report';
import type { RunListing } from '../../cli/knn-pipeline/commands/runs';
import type { StartedRun } from '../../cli/knn-pipeline/commands/start';
import { runCli } from '../../cli/knn-pipeline/program';
import { startLocalServer, type LocalServer } from '../../local/server';

const ROOT = path.resolve(__dirname, '../..');
const IRIS = path.join(ROOT, 'data/iris.csv');
const IRIS_ACCURACY = 0.9736842105263158;
const IRIS_CONFUSION = [
  [13, 0, 0],
  [0, 15, 1],
  [0, 0, 9],
];

let dir: string;
let server: LocalServer;
let target: string[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'knn-pipeline-cli-'));
  server = await startLocalServer({ directory: dir, basePort: 0, sageMakerTiming: { trainingStartDelayMs: 3000 } });
  target = ['--local', '--endpoints-file', server.endpointsFile];
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...args, ...target], { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function cliJson<T>(...args: string[]): Promise<T> {
  const { code, out, err } = await cli(...args, '--json');
  if (code !== 0 && code !== 1) throw new Error(`exit ${code}: ${err}`);
  return JSON.parse(out) as T;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const executionRecord = (arn: string) => server.cloud.stateMachine.executions.get(arn)!;

describe('knn-pipeline --local', () => {
  let uploaded: { executionName: string; executionArn: string };
  let fromKey: { executionName: string; executionArn: string };

  test('start FILE uploads under raw/ and the S3 trigger starts the run', async () => {
    uploaded = await cliJson<StartedRun>('start', IRIS);
    expect(uploaded).toMatchObject({ trigger: 's3', uploaded: true, dataset: { key: 'raw/iris.csv' } });
    expect(executionRecord(uploaded.executionArn).record.input).toMatchObject({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { object: { key: 'raw/iris.csv' } },
    });
  });

  test('watch follows it to the end: states with durations, training job, result', async () => {
    const { code, out } = await cli('watch', uploaded.executionName);
    expect(code).toBe(0);
    expect(out).toContain(`▶ ${uploaded.executionName}  started by the upload of raw/iris.csv`);
    for (const state of ['Prepare', 'Split', 'Upload', 'Train', 'CreateEndpoint', 'Evaluate', 'CleanUp']) {
      expect(out).toMatch(new RegExp(`✔ ${state} +\\d+(\\.\\d+)? m?s`));
    }
    expect(out).toMatch(/training job knnp-local--iris-[0-9a-f]+: Completed/);
    expect(out).toMatch(/↻ WaitForEndpoint → DescribeEndpoint: \d+ more rounds?/);
    expect(out).toMatch(/✔ SUCCEEDED in [\d.]+ s — accuracy 0\.9737/);
    expect(out).toContain('✔ Quality gate passed: accuracy 0.9736842105263158 is at least 0.9.');
  });

  test('start --key runs a console execution on an object already in the bucket, with run options', async () => {
    const started = await cliJson<StartedRun & { report: RunReport }>(
      'start',
      '--key',
      'raw/iris.csv',
      '--k',
      '1',
      '--seed',
      '0',
      '--watch',
    );
    fromKey = started;
    expect(started).toMatchObject({ trigger: 'console', uploaded: false, dataset: { key: 'raw/iris.csv' } });
    expect(executionRecord(started.executionArn).record.input).toEqual({
      dataset: { key: 'raw/iris.csv' },
      hyperparameters: { k: 1 },
      split: { seed: 0 },
    });
    expect(started.report).toMatchObject({
      status: 'SUCCEEDED',
      trigger: 'console',
      metrics: { accuracy: IRIS_ACCURACY },
    });
  });

  test('runs lists both with status, trigger and accuracy', async () => {
    const runs = await cliJson<RunListing[]>('runs');
    const byName = new Map(runs.map((run) => [run.executionName, run]));
    expect(byName.get(uploaded.executionName)).toMatchObject({
      status: 'SUCCEEDED',
      trigger: 's3',
      dataset: 'raw/iris.csv',
      metric: { name: 'accuracy', value: IRIS_ACCURACY },
      gatePassed: true,
    });
    expect(byName.get(fromKey.executionName)).toMatchObject({
      status: 'SUCCEEDED',
      trigger: 'console',
      metric: { name: 'accuracy', value: IRIS_ACCURACY },
    });

    const { out } = await cli('runs');
    const line = out.split('\n').find((l) => l.startsWith(uploaded.executionName))!;
    expect(line).toMatch(/✔ SUCCEEDED .* s3 +raw\/iris\.csv +accuracy 0\.9737/);
  });

  test('show --json has the metrics, the confusion matrix and the artifacts; the run id finds the run too', async () => {
    const report = await cliJson<RunReport>('show', uploaded.executionName);
    expect(report.metrics).toMatchObject({ accuracy: IRIS_ACCURACY, confusionMatrix: IRIS_CONFUSION });
    expect(report.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(report.gate).toMatchObject({ metric: 'accuracy', passed: true });
    expect(report.sageMaker).toMatchObject({ trainingJob: { status: 'Completed' }, endpoint: { status: 'not found' } });
    expect(report.artifacts.predictions.s3).toBe(
      `s3://knn-pipeline-local-data/runs/${report.runId}/evaluation/predictions.csv`,
    );
    expect(report.artifacts.predictions.local).toContain(dir);
    expect(report.states.find((s) => s.name === 'Train')).toMatchObject({ status: 'succeeded', visits: 1 });

    const byRunId = await cliJson<RunReport>('show', report.runId!);
    expect(byRunId.executionArn).toBe(uploaded.executionArn);

    const { out } = await cli('show', uploaded.executionName, '--rows', '3');
    expect(out).toContain('Confusion matrix (rows: true class, columns: predicted class)');
    expect(out).toContain('Validation (38 test rows, 1 wrong)');
    expect(out).toContain('evaluation/metrics.json');
  });

  test('start FILE with run options: one console run with them; the default run the upload fired is superseded', async () => {
    const started = await cliJson<StartedRun>('start', IRIS, '--as', 'raw/iris-k3.csv', '--k', '3');
    expect(started).toMatchObject({
      trigger: 'console',
      uploaded: true,
      dataset: { key: 'raw/iris-k3.csv' },
      input: { hyperparameters: { k: 3 } },
    });
    const superseded = await executionRecord(started.supersededExecutionArn!).done;
    expect(superseded).toMatchObject({ status: 'ABORTED', error: 'Superseded' });
    expect(superseded.input).toMatchObject({ detail: { object: { key: 'raw/iris-k3.csv' } } });

    // The same bytes again: nothing to upload, so no trigger fires and nothing is superseded.
    const again = await cliJson<StartedRun>('start', IRIS, '--as', 'raw/iris-k3.csv', '--k', '3');
    expect(again.uploaded).toBe(false);
    expect(again.supersededExecutionArn).toBeUndefined();
    await Promise.all([executionRecord(started.executionArn).done, executionRecord(again.executionArn).done]);
  });

  test('stop mid-training: ABORTED, the training job Stopped, and after the janitor nothing left', async () => {
    const started = await cliJson<StartedRun>('start', '--key', 'raw/iris.csv', '--name', 'stop-mid-training');
    const execution = executionRecord(started.executionArn);
    await until(() =>
      execution.record.history.some((event) => event.type === 'StateEntered' && event.state?.name === 'Train'),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const { code, out } = await cli(
      'stop',
      'stop-mid-training',
      '--error',
      'UserStopped',
      '--cause',
      'stopped by the test',
    );
    expect(code).toBe(0);
    expect(out).toMatch(/■ ABORTED stop-mid-training after/);
    const record = await execution.done; // resolves once the janitor has run
    expect(record).toMatchObject({ status: 'ABORTED', error: 'UserStopped', cause: 'stopped by the test' });
    expect(server.cloud.janitorRuns.find((run) => run.executionName === 'stop-mid-training')?.result).toMatchObject({
      cleaned: true,
    });

    const left = server.cloud.sageMaker.listResources();
    expect({ endpoints: left.endpoints, endpointConfigs: left.endpointConfigs, models: left.models }).toEqual({
      endpoints: [],
      endpointConfigs: [],
      models: [],
    });
    const describe = () =>
      server.cloud.sageMakerClient.send(
        new DescribeTrainingJobCommand({ TrainingJobName: 'knnp-local--stop-mid-training' }),
      );
    let job = await describe();
    for (let i = 0; job.TrainingJobStatus === 'Stopping' && i < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await describe();
    }
    expect(job.TrainingJobStatus).toBe('Stopped');

    const watched = await cli('watch', 'stop-mid-training');
    expect(watched.code).toBe(1);
    expect(watched.out).toMatch(/■ Train +[\d.]+ m?s/);
    expect(watched.out).toContain('■ ABORTED in');
    expect(watched.out).toContain('UserStopped: stopped by the test');
    const again = await cli('stop', 'stop-mid-training');
    expect(again.out).toContain('already ended: ■ ABORTED');
  });

  test('schedule fires the schedule rule: a run on the stage default dataset', async () => {
    const fired = await cliJson<{ executionArn: string; executionName: string; trigger: string }>('schedule');
    expect(fired.trigger).toBe('schedule');
    const record = await executionRecord(fired.executionArn).done;
    expect(record.input).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
    expect(record.status).toBe('SUCCEEDED');
  });

  test('mistakes get one ✖ line and exit code 2', async () => {
    expect(await cli('show', 'no-such-run')).toMatchObject({
      code: 2,
      err: expect.stringContaining('✖ No execution named "no-such-run"'),
    });
    expect(await cli('start', '--key', 'elsewhere/iris.csv')).toMatchObject({
      code: 2,
      err: expect.stringContaining('not under raw/'),
    });
    expect(await cli('start', '--key', 'raw/missing.csv')).toMatchObject({
      code: 2,
      err: expect.stringContaining('does not exist'),
    });
    const noCloud = await runCli(['runs', '--local', '--endpoints-file', path.join(dir, 'absent.json')], {
      out: () => undefined,
      err: () => undefined,
    });
    expect(noCloud).toBe(2);
  });

  test('the real bin (npx knn-pipeline) runs from the TypeScript source', async () => {
    const bin = path.join(ROOT, 'cli/knn-pipeline/bin.cjs');
    const run = promisify(execFile);
    const help = await run(process.execPath, [bin, 'show', '--help'], { cwd: ROOT });
    expect(help.stdout).toContain('Usage: knn-pipeline show [options] <run>');
    expect(help.stdout).toContain('--local');

    const shown = await run(process.execPath, [bin, 'show', uploaded.executionName, '--json', ...target], {
      cwd: ROOT,
    });
    const report = JSON.parse(shown.stdout);
    expect(report.metrics).toMatchObject({ accuracy: IRIS_ACCURACY, confusionMatrix: IRIS_CONFUSION });
  });
});
