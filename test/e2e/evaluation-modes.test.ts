/**
 * The three evaluation modes end to end through the local cloud (the same definition and handlers as the deployed
 * stage, IAM enforced): each scores Iris to the reference result, passes the quality gate and leaves nothing in
 * SageMaker; a transform job that fails, or whose execution is stopped or times out, is stopped and cleaned up; the
 * champion of serving mode is scored through the stable endpoint when the candidate is scored by a batch transform.
 */
import { DescribeTransformJobCommand } from '@aws-sdk/client-sagemaker';
import type { Metrics } from '../../src/artifacts';
import type { EvaluationMode } from '../../src/domain/runConfig';
import { float32Repr } from '../../src/domain/metrics';
import type { ExecutionRecord, HistoryEvent, LocalExecution } from '../../local/stepfunctions/runner';
import type { LocalCloud } from '../../local/cloud';
import { startCloud, useEmulators, withEmulators } from '../support/emulators';
import { buildRunReport } from '../../cli/common/report';
import { describeExecution, executionHistory } from '../../cli/common/executions';
import { localCloudTarget } from '../../cli/start/summary';
import {
  expectNoResourcesLeft,
  getBytes,
  IRIS,
  putRaw,
  runFromHistory,
  stateOutput,
  visitedStates,
} from '../support/localCloud';

const REFERENCE_ACCURACY = 0.9736842105263158;

async function metricsOf(record: ExecutionRecord): Promise<Metrics> {
  return JSON.parse((await getBytes(runFromHistory(record)!.keys.metrics)).toString()) as Metrics;
}

async function transformJobStatus(cloud: LocalCloud, name: string): Promise<string | undefined> {
  const job = await cloud.sageMakerClient
    .send(new DescribeTransformJobCommand({ TransformJobName: name }))
    .catch(() => undefined);
  return job?.TransformJobStatus;
}

/** The request a Task state sent (the interpreter records it on StateEntered). */
function requestOf(record: ExecutionRecord, state: string): Record<string, unknown> | undefined {
  const entered = record.history.find((e) => e.type === 'StateEntered' && e.state?.name === state);
  return entered?.parameters as Record<string, unknown> | undefined;
}

async function pollUntil(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('each evaluation mode on Iris', () => {
  const local = useEmulators(() => startCloud({ s3Trigger: false }));
  beforeAll(() => putRaw('raw/iris.csv', IRIS));
  const predictions = new Map<EvaluationMode, string>();

  test.each<[EvaluationMode, string[], string[]]>([
    ['endpoint', ['CreateEndpointConfig', 'CreateEndpoint', 'IsEndpointInService'], ['Transform']],
    [
      'serverless',
      ['CreateServerlessEndpointConfig', 'CreateEndpoint', 'IsEndpointInService'],
      ['CreateEndpointConfig', 'Transform'],
    ],
    [
      'batchTransform',
      ['Transform'],
      ['CreateEndpointConfig', 'CreateServerlessEndpointConfig', 'CreateEndpoint', 'DescribeEndpoint'],
    ],
  ])(
    '%s: the reference result, the quality gate passed, nothing left in SageMaker',
    async (mode, visited, notVisited) => {
      const record = await local.cloud.startExecution({ dataset: { key: 'raw/iris.csv' }, evaluation: { mode } }).done;
      expect({ status: record.status, error: record.error, cause: record.cause }).toEqual({
        status: 'SUCCEEDED',
        error: undefined,
        cause: undefined,
      });
      const states = visitedStates(record);
      expect(states).toEqual(expect.arrayContaining(['EvaluationMode', ...visited, 'Evaluate', 'CleanUp']));
      for (const state of notVisited)
        expect({ state, visited: states.includes(state) }).toEqual({ state, visited: false });

      const metrics = await metricsOf(record);
      const scores = metrics.metrics as { accuracy: number; macroF1: number; confusionMatrix: number[][] };
      expect(scores.accuracy).toBe(REFERENCE_ACCURACY);
      expect(float32Repr(scores.macroF1)).toBe('0.97170347');
      expect(scores.confusionMatrix).toEqual([
        [13, 0, 0],
        [0, 15, 1],
        [0, 0, 9],
      ]);
      expect(metrics.gate).toMatchObject({ passed: true, value: REFERENCE_ACCURACY });
      expect(metrics.evaluationMode).toBe(mode);
      expect(metrics.testRows).toBe(38);

      const run = runFromHistory(record)!;
      if (mode === 'batchTransform') {
        expect(metrics).toMatchObject({ endpoint: null, invocations: 0, transformJob: run.names.transformJob });
        // The job ran to completion on the test channel, without its label column, and no endpoint ever existed.
        expect(await transformJobStatus(local.cloud, run.names.transformJob)).toBe('Completed');
        expect(requestOf(record, 'Transform')).toMatchObject({
          TransformJobName: run.names.transformJob,
          DataProcessing: { InputFilter: '$[1:]' },
          TransformInput: { ContentType: 'text/csv', SplitType: 'Line' },
          TransformOutput: { Accept: 'application/jsonlines', AssembleWith: 'Line' },
        });
        // `knn-pipeline show` / `watch` report the transform job (there is no endpoint to report).
        const target = localCloudTarget(local.cloud);
        const report = await buildRunReport(
          target,
          await describeExecution(target, record.executionArn),
          await executionHistory(target, record.executionArn),
        );
        expect(report.sageMaker?.transformJob).toEqual({ name: run.names.transformJob, status: 'Completed' });
        const output = (await getBytes(run.keys.transformResult)).toString().trim().split('\n');
        expect(output).toHaveLength(38);
        expect(JSON.parse(output[0])).toHaveProperty('predicted_label');
      } else {
        expect(metrics).toMatchObject({ endpoint: run.names.endpoint, invocations: 1 });
        expect(await transformJobStatus(local.cloud, run.names.transformJob)).toBeUndefined();
      }
      if (mode === 'serverless') {
        expect(requestOf(record, 'CreateServerlessEndpointConfig')).toMatchObject({
          ProductionVariants: [{ ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 4 } }],
        });
        expect(requestOf(record, 'CreateServerlessEndpointConfig')!.ProductionVariants).toEqual([
          expect.not.objectContaining({ InstanceType: expect.anything() }),
        ]);
      }
      await expectNoResourcesLeft(local.cloud, record);
      expect(local.cloud.denials).toEqual([]);
      predictions.set(mode, (await getBytes(run.keys.predictions)).toString());
    },
  );

  test('the three modes write the same predictions.csv, byte for byte', () => {
    expect(predictions.size).toBe(3);
    const [first, ...others] = [...predictions.values()];
    expect(first.split('\n')[0]).toBe(
      'row,Sepal.Length,Sepal.Width,Petal.Length,Petal.Width,true_label,predicted_label,match',
    );
    expect(first.trim().split('\n')).toHaveLength(39);
    for (const other of others) expect(other).toBe(first);
  });

  test('serverless with serving mode is refused at Prepare, before any SageMaker call', async () => {
    const record = await local.cloud.startExecution({
      dataset: { key: 'raw/iris.csv' },
      serve: true,
      evaluation: { mode: 'serverless' },
    }).done;
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('InputValidationError');
    expect(record.cause).toMatch(/evaluation\.mode: a serverless endpoint cannot be combined with serving mode/);
    expect(visitedStates(record)).toEqual(['Prepare']);
    await expectNoResourcesLeft(local.cloud, record);
  });
});

describe('a transform job never outlives its run', () => {
  const entered = new Map<string, Set<string>>();
  const local = useEmulators(() =>
    startCloud({
      s3Trigger: false,
      // The job stays InProgress long enough to be interrupted.
      sageMakerTiming: { transformStartDelayMs: 3_000 },
      onEvent: (record: ExecutionRecord, event: HistoryEvent) => {
        if (event.type === 'StateEntered')
          entered.set(record.name, (entered.get(record.name) ?? new Set()).add(event.state!.name));
      },
    }),
  );
  beforeAll(() => putRaw('raw/iris.csv', IRIS));

  test('stopped during the transform: ABORTED, the job Stopped, the model deleted, nothing left', async () => {
    const execution: LocalExecution = local.cloud.startExecution({
      dataset: { key: 'raw/iris.csv' },
      evaluation: { mode: 'batchTransform' },
    });
    await pollUntil(() => entered.get(execution.record.name)?.has('Transform') ?? false);
    const run = runFromHistory(execution.record)!;
    await pollUntil(async () => (await transformJobStatus(local.cloud, run.names.transformJob)) === 'InProgress');
    execution.stop('UserStopped', 'stopped by the test');
    const record = await execution.done;

    expect(record.status).toBe('ABORTED');
    // Step Functions stops the job of a stopped .sync Task; the janitor finds it stopping or stopped and waits.
    const janitor = local.cloud.janitorRuns.find((r) => r.executionName === record.name);
    expect(janitor?.result).toMatchObject({
      cleaned: true,
      deleted: { transformJob: expect.stringMatching(/^(stopped|not-running)$/), model: 'deleted' },
    });
    expect(await transformJobStatus(local.cloud, run.names.transformJob)).toBe('Stopped');
    await expectNoResourcesLeft(local.cloud, record);
    // A stopped job publishes no output.
    await expect(getBytes(run.keys.transformResult)).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  test('the Cleanup function (its own role, IAM enforced) stops a running transform job and waits until it has stopped', async () => {
    const execution = local.cloud.startExecution({
      dataset: { key: 'raw/iris.csv' },
      evaluation: { mode: 'batchTransform' },
    });
    await pollUntil(() => entered.get(execution.record.name)?.has('Transform') ?? false);
    const run = runFromHistory(execution.record)!;
    await pollUntil(async () => (await transformJobStatus(local.cloud, run.names.transformJob)) === 'InProgress');

    const result = (await local.cloud.invokeFunction('cleanup', { run })) as { deleted: Record<string, unknown> };

    expect(result.deleted).toMatchObject({ transformJob: 'stopped', model: 'deleted' });
    expect(await transformJobStatus(local.cloud, run.names.transformJob)).toBe('Stopped');
    expect(local.cloud.denials).toEqual([]);
    // The Transform task sees its job Stopped: the run fails through the cleanup path, with nothing left.
    const record = await execution.done;
    expect(record.status).toBe('FAILED');
    expect(visitedStates(record)).toContain('CleanUpAfterFailure');
    expect(record.cause).toMatch(/^Transform failed: transform job \S+ ended Stopped/);
    await expectNoResourcesLeft(local.cloud, record);
  });

  test('a failed transform job fails the run through CleanUpAfterFailure, with its FailureReason', async () => {
    local.cloud.sageMaker.faults.failNextTransformJobs('ClientError: the input could not be read');
    const record = await local.cloud.startExecution({
      dataset: { key: 'raw/iris.csv' },
      evaluation: { mode: 'batchTransform' },
    }).done;
    const run = runFromHistory(record)!;

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.TaskFailed');
    expect(record.cause).toMatch(
      new RegExp(
        `^Transform failed: transform job ${run.names.transformJob} ended Failed: ClientError: the input could not be read\\. Read the transform job FailureReason`,
      ),
    );
    expect(visitedStates(record)).toEqual(expect.arrayContaining(['Transform', 'CleanUpAfterFailure']));
    expect(visitedStates(record)).not.toContain('Evaluate');
    expect(
      stateOutput<{ cleanup: { deleted: { transformJob: string } } }>(record, 'CleanUpAfterFailure'),
    ).toMatchObject({ cleanup: { deleted: { transformJob: 'not-running', model: 'deleted' } } });
    await expectNoResourcesLeft(local.cloud, record);
  });
});

test('timed out during the transform: TIMED_OUT, and the job is stopped and the model deleted', async () => {
  const options = { s3Trigger: false, executionTimeoutSeconds: 3, sageMakerTiming: { transformStartDelayMs: 10_000 } };
  await withEmulators(startCloud(options), async ({ cloud }) => {
    await putRaw('raw/iris.csv', IRIS);
    const record = await cloud.startExecution({
      dataset: { key: 'raw/iris.csv' },
      evaluation: { mode: 'batchTransform' },
    }).done;
    const run = runFromHistory(record)!;
    expect(record.status).toBe('TIMED_OUT');
    expect(visitedStates(record)).toContain('Transform');
    expect(cloud.janitorRuns.find((r) => r.executionName === record.name)?.result).toMatchObject({ cleaned: true });
    expect(await transformJobStatus(cloud, run.names.transformJob)).toBe('Stopped');
    await expectNoResourcesLeft(cloud, record);
  });
});

describe('serving mode with batchTransform: the champion is scored through the stable endpoint', () => {
  const local = useEmulators(() => startCloud({ s3Trigger: false, params: { serveKeep: '2' } }));
  beforeAll(() => putRaw('raw/iris.csv', IRIS));

  const serveRun = (k: number) =>
    local.cloud.startExecution({
      dataset: { key: 'raw/iris.csv' },
      serve: true,
      evaluation: { mode: 'batchTransform' },
      hyperparameters: { k },
      qualityGate: { metric: 'accuracy', threshold: 0 },
    }).done;

  test('first run creates the stable endpoint; the next is compared with it on the same rows and promoted', async () => {
    const first = await serveRun(1);
    expect(first.status).toBe('SUCCEEDED');
    const firstMetrics = await metricsOf(first);
    expect(firstMetrics.promotion).toMatchObject({ decision: 'create', champion: null });
    expect(firstMetrics.championMetrics).toBeNull();

    // k = 3 scores as well as k = 1 on these rows: "at least as good" promotes it.
    const second = await serveRun(3);
    expect(second.status).toBe('SUCCEEDED');
    const secondMetrics = await metricsOf(second);
    expect(secondMetrics.evaluationMode).toBe('batchTransform');
    // The champion (the first model, behind knnp-local--serving) was measured freshly on this run's test rows.
    expect(secondMetrics.championMetrics).toMatchObject({ accuracy: REFERENCE_ACCURACY });
    expect(secondMetrics.promotion).toMatchObject({
      champion: REFERENCE_ACCURACY,
      previousConfig: runFromHistory(first)!.serve.endpointConfigName,
    });
    expect(secondMetrics.promotion).toMatchObject({ decision: 'promote', candidate: REFERENCE_ACCURACY });
    // Neither run left an evaluation endpoint: only the stable one and the retained serving configs and models.
    const { endpoints, transformJobs } = local.cloud.sageMaker.listResources();
    expect(endpoints).toEqual(['knnp-local--serving']);
    expect(transformJobs.sort()).toEqual(
      [runFromHistory(first)!.names.transformJob, runFromHistory(second)!.names.transformJob].sort(),
    );
    for (const record of [first, second])
      expect(await transformJobStatus(local.cloud, runFromHistory(record)!.names.transformJob)).toBe('Completed');
  });
});
