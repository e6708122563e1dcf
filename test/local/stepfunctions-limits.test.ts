/**
 * Step Functions' service limits in the local interpreter (local/stepfunctions/runner.ts, errors.ts, api.ts), driven
 * with small definitions: the 256 KiB payload quota (States.DataLimitExceeded, which States.ALL does not catch, as AWS
 * documents), StartExecution's name rule, input length and idempotency, and what GetExecutionHistory shows of it.
 */
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { AslDefinition } from '../../statemachine/definition';
import { LocalStateMachine, type ExecutionRecord } from '../../local/stepfunctions/runner';
import { apiHistory, taskResources, type ApiHistoryEvent } from '../../local/stepfunctions/history';
import { stepFunctionsOperations, type StepFunctionsApiError } from '../../local/stepfunctions/api';
import type { TaskHandler } from '../../local/stepfunctions/integrations';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:limits`;
const fn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
const LIMIT = 262_144;
/** A string that makes a JSON payload just over the limit. */
const oversized = () => 'x'.repeat(LIMIT + 1);

const sageMaker = new SageMakerClient({ region: REGION, endpoint: 'http://127.0.0.1:9' });
afterAll(() => sageMaker.destroy());

function machine(definition: AslDefinition, lambdas: Record<string, TaskHandler>): LocalStateMachine {
  return new LocalStateMachine({
    definition,
    stateMachineArn: STATE_MACHINE_ARN,
    lambdas,
    sageMaker,
    timing: { waitMs: 1, retryMs: 1, syncPollMs: 5 },
  });
}

async function run(
  definition: AslDefinition,
  lambdas: Record<string, TaskHandler>,
  input: unknown = {},
): Promise<ExecutionRecord> {
  return machine(definition, lambdas).start(input, 'run-1').done;
}

function history(record: ExecutionRecord, definition: AslDefinition): ApiHistoryEvent[] {
  return apiHistory(record, {
    taskResources: taskResources(definition),
    roleArn: 'arn:aws:iam::0:role/r',
    region: REGION,
  });
}

const bigResult = { Big: async () => ({ blob: oversized() }) };
const catchAll = (next: string) => [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: next }];

describe('States.DataLimitExceeded', () => {
  it('fails a Task whose result exceeds 256 KiB; a States.ALL catcher does not catch it', async () => {
    let handled = false;
    const definition: AslDefinition = {
      StartAt: 'Big',
      States: {
        Big: { Type: 'Task', Resource: fn('Big'), Catch: catchAll('Handle'), End: true },
        Handle: { Type: 'Pass', End: true },
      },
    };
    const record = await run(definition, {
      ...bigResult,
      Handle: async () => ((handled = true), {}),
    });
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.DataLimitExceeded');
    expect(record.cause).toBe(
      `The state/task '${fn('Big')}' returned a result with a size exceeding the maximum number of bytes service limit.`,
    );
    expect(handled).toBe(false);
    const events = history(record, definition);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'ExecutionFailed',
    ]);
    expect(events[4].lambdaFunctionFailedEventDetails).toEqual({
      error: 'States.DataLimitExceeded',
      cause: record.cause,
    });
  });

  it('a result of exactly 262,144 bytes passes; one byte more fails', async () => {
    // {"blob":"…"} is 11 bytes of JSON around the string.
    const sized = (bytes: number) => ({ Sized: async () => ({ blob: 'é'.repeat(2) + 'x'.repeat(bytes - 11 - 4) }) });
    const definition: AslDefinition = {
      StartAt: 'Sized',
      States: { Sized: { Type: 'Task', Resource: fn('Sized'), OutputPath: '$.blob', End: true } },
    };
    expect((await run(definition, sized(LIMIT))).status).toBe('SUCCEEDED');
    const failed = await run(definition, sized(LIMIT + 1));
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('States.DataLimitExceeded');
  });

  it('a catcher or retrier naming States.DataLimitExceeded explicitly applies', async () => {
    let attempts = 0;
    const definition: AslDefinition = {
      StartAt: 'Big',
      States: {
        Big: {
          Type: 'Task',
          Resource: fn('Big'),
          Retry: [{ ErrorEquals: ['States.DataLimitExceeded'], MaxAttempts: 1 }],
          Catch: [{ ErrorEquals: ['States.DataLimitExceeded'], Next: 'Handled' }, ...catchAll('Handled')],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    };
    const record = await run(definition, { Big: async () => (attempts++, { blob: oversized() }) });
    expect(attempts).toBe(2);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.output).toEqual({
      Error: 'States.DataLimitExceeded',
      Cause: `The state/task '${fn('Big')}' returned a result with a size exceeding the maximum number of bytes service limit.`,
    });
  });

  it('fails a Task whose effective input (after Parameters) exceeds the limit, before calling it', async () => {
    let called = false;
    const definition: AslDefinition = {
      StartAt: 'Grow',
      States: {
        Grow: { Type: 'Pass', Result: oversized().slice(0, 200_000), ResultPath: '$.a', Next: 'Send' },
        Send: {
          Type: 'Task',
          Resource: fn('Send'),
          Parameters: { 'first.$': '$.a', 'second.$': '$.a' },
          Catch: catchAll('Handle'),
          End: true,
        },
        Handle: { Type: 'Pass', End: true },
      },
    };
    const record = await run(definition, { Send: async () => ((called = true), {}) });
    expect(called).toBe(false);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.DataLimitExceeded');
    expect(record.cause).toContain(`'${fn('Send')}' has an input with a size exceeding`);
  });

  it("fails the execution when a Pass state's output exceeds the limit", async () => {
    const definition: AslDefinition = {
      StartAt: 'State_1',
      States: { State_1: { Type: 'Pass', Result: { Arg1: oversized() }, End: true } },
    };
    const record = await run(definition, {});
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.DataLimitExceeded');
    expect(record.cause).toBe(
      "The state/task 'State_1' returned a result with a size exceeding the maximum number of bytes service limit.",
    );
    expect(history(record, definition).map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'ExecutionFailed',
    ]);
  });

  it('a state output grown over the limit by ResultPath fails, even under a Map with a States.ALL catcher', async () => {
    let handled = false;
    const definition: AslDefinition = {
      StartAt: 'Fan',
      States: {
        Fan: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            StartAt: 'Half',
            States: { Half: { Type: 'Task', Resource: fn('Half'), ResultPath: '$.again', End: true } },
          },
          Catch: catchAll('Handle'),
          End: true,
        },
        Handle: { Type: 'Pass', End: true },
      },
    };
    const half = 'y'.repeat(LIMIT / 2);
    const record = await run(
      definition,
      { Half: async () => half, Handle: async () => ((handled = true), {}) },
      {
        items: [{ text: half }],
      },
    );
    expect(handled).toBe(false);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.DataLimitExceeded');
    expect(record.cause).toContain("The state/task 'Half' returned a result");
  });
});

describe('StartExecution on the local cloud path (LocalStateMachine.start)', () => {
  const waiting: AslDefinition = {
    StartAt: 'Work',
    States: { Work: { Type: 'Task', Resource: fn('Work'), End: true } },
  };

  it('refuses names that break the rule with InvalidName, and accepts 80 characters', () => {
    const sm = machine(waiting, { Work: async () => ({}) });
    for (const name of [
      '',
      'a'.repeat(81),
      'has space',
      'a/b',
      'a:b',
      'tab\t',
      'ctl\u0001',
      'del\u007f',
      'x{y}',
      'q?',
      'p,q',
    ]) {
      expect(() => sm.start({}, name)).toThrow(expect.objectContaining({ name: 'InvalidName' }));
    }
    expect(sm.start({}, 'a'.repeat(80)).record.status).toBe('RUNNING');
    expect(sm.start({}, 'ünïcödé-名前_ok.1').record.status).toBe('RUNNING');
  });

  it('refuses an input over 262,144 characters with ValidationException', () => {
    const sm = machine(waiting, { Work: async () => ({}) });
    // {"s":"…"} is 8 characters around the string.
    expect(() => sm.start({ s: 'z'.repeat(LIMIT - 8 + 1) }, 'too-big')).toThrow(
      expect.objectContaining({ name: 'ValidationException' }),
    );
    expect(sm.start({ s: 'z'.repeat(LIMIT - 8) }, 'just-fits').record.status).toBe('RUNNING');
  });

  it('is idempotent for a running execution with the same input; otherwise ExecutionAlreadyExists', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sm = machine(waiting, { Work: async () => (await gate, {}) });
    const first = sm.start({ a: 1 }, 'same');
    expect(sm.start({ a: 1 }, 'same')).toBe(first);
    expect(() => sm.start({ a: 2 }, 'same')).toThrow(expect.objectContaining({ name: 'ExecutionAlreadyExists' }));
    release();
    await first.done;
    expect(() => sm.start({ a: 1 }, 'same')).toThrow(expect.objectContaining({ name: 'ExecutionAlreadyExists' }));
  });

  it('the Step Functions API answers the same errors', () => {
    const sm = machine(waiting, { Work: async () => ({}) });
    const api = stepFunctionsOperations({
      stateMachine: sm,
      stateMachineArn: STATE_MACHINE_ARN,
      definition: waiting,
      roleArn: 'arn:aws:iam::000000000000:role/r',
    });
    const attempt = (body: Record<string, unknown>) => {
      try {
        api.StartExecution({ stateMachineArn: STATE_MACHINE_ARN, ...body });
      } catch (error) {
        return error as StepFunctionsApiError;
      }
      throw new Error('expected a refusal');
    };
    expect(attempt({ name: 'bad name' }).type).toBe('InvalidName');
    expect(attempt({ name: 'x'.repeat(81) }).type).toBe('InvalidName');
    const tooLong = attempt({ name: 'long', input: JSON.stringify({ s: 'z'.repeat(LIMIT) }) });
    expect(tooLong.type).toBe('ValidationException');
    expect(tooLong.message).toContain('Member must have length less than or equal to 262144');
  });
});
