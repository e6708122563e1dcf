/**
 * Stop and timeout bypass the definition's Catch: the janitor (EventBridge rule on FAILED / TIMED_OUT / ABORTED)
 * must delete what the run created. Training is slowed down so the execution can be interrupted mid-run.
 */
import { DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import type { ExecutionRecord, HistoryEvent, LocalExecution } from '../../local/stepfunctions/runner';
import { startCloud, useEmulators, withEmulators } from '../support/emulators';
import { expectNoResourcesLeft, IRIS, putRaw, runFromHistory } from '../support/localCloud';

async function pollUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('stopped mid-run', () => {
  const entered = new Map<string, Set<string>>();
  const local = useEmulators(() =>
    startCloud({
      s3Trigger: false,
      sageMakerTiming: { trainingStartDelayMs: 1500, endpointCreateDelayMs: 1500 },
      onEvent: (record: ExecutionRecord, event: HistoryEvent) => {
        if (event.type === 'StateEntered')
          entered.set(record.name, (entered.get(record.name) ?? new Set()).add(event.state!.name));
      },
    }),
  );
  beforeAll(() => putRaw('raw/iris.csv', IRIS));

  async function stopWhenIn(stateName: string): Promise<ExecutionRecord> {
    const execution: LocalExecution = local.cloud.startExecution({ dataset: { key: 'raw/iris.csv' } });
    await pollUntil(() => entered.get(execution.record.name)?.has(stateName) ?? false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    execution.stop('UserStopped', 'stopped by the test');
    return execution.done;
  }

  test('during training: ABORTED, the training job is stopped and nothing is left', async () => {
    const record = await stopWhenIn('Train');
    expect(record.status).toBe('ABORTED');
    const janitor = local.cloud.janitorRuns.find((run) => run.executionName === record.name);
    expect(janitor?.result).toMatchObject({ cleaned: true });
    const run = runFromHistory(record)!;
    await pollUntil(() => true);
    const job = await local.cloud.sageMakerClient.send(
      new DescribeTrainingJobCommand({ TrainingJobName: run.names.trainingJob }),
    );
    expect(['Stopping', 'Stopped']).toContain(job.TrainingJobStatus);
    await expectNoResourcesLeft(local.cloud, { ...record, history: [] });
  });

  test('while the endpoint is being created: the janitor waits for it to settle and deletes it', async () => {
    const record = await stopWhenIn('WaitForEndpoint');
    expect(record.status).toBe('ABORTED');
    expect(local.cloud.janitorRuns.find((run) => run.executionName === record.name)?.result).toMatchObject({
      cleaned: true,
      deleted: { endpoint: 'deleted', endpointConfig: 'deleted', model: 'deleted' },
    });
    await expectNoResourcesLeft(local.cloud, record);
  });
});

test('timed out mid-run: TIMED_OUT, and the janitor deletes what the run created', async () => {
  const timingOut = { s3Trigger: false, executionTimeoutSeconds: 2, sageMakerTiming: { endpointCreateDelayMs: 5000 } };
  await withEmulators(startCloud(timingOut), async ({ cloud }) => {
    await putRaw('raw/iris.csv', IRIS);
    const record = await cloud.startExecution({ dataset: { key: 'raw/iris.csv' } }).done;
    expect(record.status).toBe('TIMED_OUT');
    expect(record.error).toBe('States.Timeout');
    expect(cloud.janitorRuns.find((run) => run.executionName === record.name)?.result).toMatchObject({ cleaned: true });
    await expectNoResourcesLeft(cloud, record);
  });
});
