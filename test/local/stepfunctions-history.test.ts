/**
 * GetExecutionHistory's events from the local interpreter (local/stepfunctions/history.ts): the request each Task
 * attempt sent, and Map iterations written as AWS writes them when asked for (HistoryOptions.mapIterations).
 */
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { AslDefinition } from '../../statemachine/definition';
import { LocalStateMachine, type ExecutionRecord } from '../../local/stepfunctions/runner';
import { apiHistory, taskResources, type ApiHistoryEvent } from '../../local/stepfunctions/history';
import type { TaskHandler } from '../../local/stepfunctions/integrations';

const REGION = 'us-east-1';
const fn = (name: string) => `arn:aws:lambda:${REGION}:000000000000:function:${name}`;
const sageMaker = new SageMakerClient({ region: REGION, endpoint: 'http://127.0.0.1:9' });
afterAll(() => sageMaker.destroy());

async function run(definition: AslDefinition, lambdas: Record<string, TaskHandler>, input: unknown) {
  const machine = new LocalStateMachine({
    definition,
    stateMachineArn: `arn:aws:states:${REGION}:000000000000:stateMachine:history`,
    lambdas,
    sageMaker,
    timing: { waitMs: 1, retryMs: 1, syncPollMs: 5 },
  });
  return machine.start(input, 'history').done;
}

const history = (record: ExecutionRecord, definition: AslDefinition, mapIterations = false): ApiHistoryEvent[] =>
  apiHistory(record, {
    taskResources: taskResources(definition),
    roleArn: 'arn:aws:iam::000000000000:role/r',
    region: REGION,
    mapIterations,
  });
const types = (events: ApiHistoryEvent[]) => events.map((e) => e.type);

const fan = (catchFailures: boolean): AslDefinition => ({
  StartAt: 'Fan',
  States: {
    Fan: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 2,
      ItemSelector: { 'item.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'tag.$': '$.tag' },
      ItemProcessor: {
        StartAt: 'Fold',
        States: {
          Fold: {
            Type: 'Task',
            Resource: fn('Fold'),
            InputPath: '$',
            Parameters: { 'n.$': '$.item.n', 'position.$': '$.index' },
            ResultPath: '$.result',
            End: true,
          },
        },
      },
      ...(catchFailures ? { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Done' }] } : {}),
      Next: 'Done',
    },
    Done: { Type: 'Pass', End: true },
  },
});

describe('Task requests', () => {
  it('each attempt, retries included, shows the request after InputPath and Parameters', async () => {
    let calls = 0;
    const definition: AslDefinition = {
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: fn('Call'),
          InputPath: '$.wrapped',
          Parameters: { 'value.$': '$.value', fixed: 'yes', 'execution.$': '$$.Execution.Name' },
          Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 2 }],
          End: true,
        },
      },
    };
    const flaky: TaskHandler = async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('not yet'), { name: 'Flaky' });
      return { ok: true };
    };
    const record = await run(definition, { Call: flaky }, { wrapped: { value: 42, ignored: 'x'.repeat(100) } });
    expect(record.status).toBe('SUCCEEDED');
    const scheduled = history(record, definition).filter((e) => e.type === 'LambdaFunctionScheduled');
    expect(scheduled).toHaveLength(3);
    for (const event of scheduled) {
      const details = event.lambdaFunctionScheduledEventDetails as { input: string; resource: string };
      expect(JSON.parse(details.input)).toEqual({ value: 42, fixed: 'yes', execution: 'history' });
      expect(details.resource).toBe(fn('Call'));
    }
  });
});

describe('Map iterations', () => {
  const items = [{ n: 10 }, { n: 20 }, { n: 30 }];
  const fold: TaskHandler = async (input) => ({ doubled: (input as { n: number }).n * 2 });

  it('are left out by default, so readers that follow one open state at a time see the Map state whole', async () => {
    const definition = fan(false);
    const record = await run(definition, { Fold: fold }, { items, tag: 't' });
    expect(types(history(record, definition))).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('are written as AWS writes them when asked for', async () => {
    const definition = fan(false);
    const record = await run(definition, { Fold: fold }, { items, tag: 't' });
    const events = history(record, definition, true);
    const list = types(events);
    expect(list.slice(0, 3)).toEqual(['ExecutionStarted', 'MapStateEntered', 'MapStateStarted']);
    expect(events[2].mapStateStartedEventDetails).toEqual({ length: 3 });
    expect(list.slice(-5)).toEqual([
      'MapStateSucceeded',
      'MapStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    const started = events.filter((e) => e.type === 'MapIterationStarted');
    const succeeded = events.filter((e) => e.type === 'MapIterationSucceeded');
    expect(started.map((e) => e.mapIterationStartedEventDetails)).toEqual(
      expect.arrayContaining([0, 1, 2].map((index) => ({ name: 'Fan', index }))),
    );
    expect(succeeded.map((e) => e.mapIterationSucceededEventDetails)).toEqual(
      expect.arrayContaining([0, 1, 2].map((index) => ({ name: 'Fan', index }))),
    );
    // Every iteration's Task shows the request it sent (ItemSelector, then Parameters).
    const requests = events
      .filter((e) => e.type === 'LambdaFunctionScheduled')
      .map((e) => JSON.parse((e.lambdaFunctionScheduledEventDetails as { input: string }).input));
    expect(requests).toEqual(
      expect.arrayContaining([
        { n: 10, position: 0 },
        { n: 20, position: 1 },
        { n: 30, position: 2 },
      ]),
    );
    expect(list.filter((t) => t === 'TaskStateEntered')).toHaveLength(3);
    expect(list.filter((t) => t === 'LambdaFunctionSucceeded')).toHaveLength(3);
    // Everything of the iterations lies between MapStateStarted and MapStateSucceeded; ids stay consecutive.
    const first = list.indexOf('MapIterationStarted');
    const last = list.lastIndexOf('MapIterationSucceeded');
    expect(first).toBeGreaterThan(list.indexOf('MapStateStarted'));
    expect(last).toBeLessThan(list.indexOf('MapStateSucceeded'));
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
  });

  it('a failed iteration caught by the Map: MapIterationFailed, MapStateFailed, then the Map exits', async () => {
    const definition = fan(true);
    const failing: TaskHandler = async (input) => {
      if ((input as { n: number }).n === 20) throw Object.assign(new Error('bad fold'), { name: 'FoldError' });
      return fold(input);
    };
    const record = await run(definition, { Fold: failing }, { items, tag: 't' });
    expect(record.status).toBe('SUCCEEDED');
    const events = history(record, definition, true);
    const list = types(events);
    const failed = events.find((e) => e.type === 'MapIterationFailed');
    expect(failed?.mapIterationFailedEventDetails).toEqual({ name: 'Fan', index: 1 });
    expect(list).toContain('LambdaFunctionFailed');
    expect(list).not.toContain('MapStateSucceeded');
    expect(list.indexOf('MapStateFailed')).toBeLessThan(list.indexOf('MapStateExited'));
    expect(list.indexOf('MapIterationFailed')).toBeLessThan(list.indexOf('MapStateFailed'));
  });
});
