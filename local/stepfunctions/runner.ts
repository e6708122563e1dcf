import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import {
  StopHyperParameterTuningJobCommand,
  StopTrainingJobCommand,
  StopTransformJobCommand,
} from '@aws-sdk/client-sagemaker';
import { forEachState, stateNames, type AslDefinition } from '../../statemachine/definition';
import { taskForResource, type TaskHandler } from './integrations';
import { DataLimitExceededError, DATA_LIMIT_EXCEEDED, MAX_PAYLOAD_BYTES, payloadBytes } from './errors';

// aws-local-stepfunctions 3 uses Promise.withResolvers, which Node 20 lacks.
const promiseStatics = Promise as { withResolvers?: unknown };
if (typeof promiseStatics.withResolvers !== 'function') {
  promiseStatics.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
}

/**
 * The interpreter logs events through an EventLogger it does not export. Each run (and each Map iteration's nested run,
 * which reuses the run options) passes through StateMachine.prototype.execute with its logger, so a run started with an
 * EXECUTION_HOOK in its run options has every event shown to the hook synchronously, before it is logged: the hook can
 * refuse a state's output (States.DataLimitExceeded) and a Task attempt's event can be given the request it sent.
 */
const EXECUTION_HOOK = Symbol('localExecutionHook');
type ExecutionHook = (event: HistoryEvent) => void;
interface InterpreterRun {
  runOptions?: { [EXECUTION_HOOK]?: ExecutionHook };
  eventLogger: { dispatch(event: HistoryEvent): void };
}
type Execute = (this: StateMachine, input: unknown, options: InterpreterRun, cleanup: () => void) => Promise<unknown>;
const interpreter = StateMachine.prototype as unknown as { execute: Execute & { hooked?: boolean } };
if (!interpreter.execute.hooked) {
  const execute = interpreter.execute;
  const hooked: Execute & { hooked?: boolean } = function (this: StateMachine, input, options, cleanup) {
    const hook = options.runOptions?.[EXECUTION_HOOK];
    if (hook) {
      const logger = options.eventLogger;
      const dispatch = logger.dispatch.bind(logger);
      logger.dispatch = (event) => {
        hook(event);
        dispatch(event);
      };
    }
    return execute.call(this, input, options, cleanup);
  };
  hooked.hooked = true;
  interpreter.execute = hooked;
}

/** A JSON value as the interpreter passes it between states (its own type is not exported). */
type Json = Parameters<StateMachine['run']>[0];
type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** One entry of the execution's history, as the interpreter reports it. */
export interface HistoryEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  Error?: string;
  Cause?: string;
  index?: number;
  retry?: { attempt: number };
  /** On a Task attempt (StateEntered/StateRetried): the effective request sent, after InputPath and Parameters. */
  parameters?: unknown;
  [key: string]: unknown;
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
  history: HistoryEvent[];
}

export interface LocalExecution {
  record: ExecutionRecord;
  /** Resolves when the execution ends, whatever the outcome. */
  done: Promise<ExecutionRecord>;
  stop(error?: string, cause?: string): void;
}

export interface LocalStateMachineOptions {
  definition: AslDefinition;
  stateMachineArn: string;
  lambdas: Record<string, TaskHandler>;
  sageMaker: SageMakerClient;
  /** Local stand-ins for Wait durations, retry intervals and .sync polling, so runs take seconds. */
  timing?: { waitMs?: number; retryMs?: number; syncPollMs?: number };
  onEvent?: (execution: ExecutionRecord, event: HistoryEvent) => void;
  onFinished?: (execution: ExecutionRecord) => void | Promise<void>;
}

/** Runs the state machine definition with aws-local-stepfunctions, Tasks mapped to local integrations. */
export class LocalStateMachine {
  private readonly machine: StateMachine;
  readonly executions = new Map<string, LocalExecution>();

  constructor(private readonly options: LocalStateMachineOptions) {
    // The interpreter validates the definition itself; AslDefinition only models the fields read here.
    this.machine = new StateMachine(options.definition as StateMachineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
  }

  start(input: unknown, name: string): LocalExecution {
    const { options } = this;
    const executionArn = `${options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    checkExecutionName(name);
    checkExecutionInput(JSON.stringify(input ?? null));
    const existing = this.executions.get(executionArn);
    if (existing) {
      // StartExecution is idempotent for a running execution started again with the same input.
      if (existing.record.status === 'RUNNING' && JSON.stringify(existing.record.input) === JSON.stringify(input)) {
        return existing;
      }
      throw Object.assign(new Error(`Execution Already Exists: '${executionArn}'`), { name: 'ExecutionAlreadyExists' });
    }
    const controller = new AbortController();
    const trainingJobs = new Set<string>();
    const transformJobs = new Set<string>();
    const tuningJobs = new Set<string>();
    const integration = {
      executionArn,
      sageMaker: options.sageMaker,
      syncPollMs: options.timing?.syncPollMs ?? 50,
      onTrainingJobStarted: (job: string) => trainingJobs.add(job),
      onTransformJobStarted: (job: string) => transformJobs.add(job),
      onTuningJobStarted: (job: string) => tuningJobs.add(job),
      signal: controller.signal,
    };
    const taskResourceLocalHandlers: LocalHandlers = {};
    // The Task attempt just logged: the interpreter calls the Task's handler synchronously right after logging it.
    let attempt: HistoryEvent | undefined;
    const hook: ExecutionHook = (event) => {
      if ((event.type === 'StateEntered' || event.type === 'StateRetried') && event.state?.type === 'Task') {
        attempt = event;
      } else if (event.type === 'StateExited' && event.state && payloadBytes(event.state.output) > MAX_PAYLOAD_BYTES) {
        // Thrown before the state exits, so the execution fails with it (no catcher can apply after the state).
        throw new DataLimitExceededError(event.state.name, 'result');
      }
    };
    forEachState(options.definition, (stateName, state) => {
      if (state.Type !== 'Task') return;
      const task = taskForResource(state.Resource, options.lambdas, integration);
      const subject = dataLimitSubject(state.Resource);
      const explicitly = {
        catchable: (state.Catch ?? []).some((c) => c.ErrorEquals.includes(DATA_LIMIT_EXCEEDED)),
        retryable: (state.Retry ?? []).some((r) => r.ErrorEquals.includes(DATA_LIMIT_EXCEEDED)),
      };
      taskResourceLocalHandlers[stateName] = async (parameters) => {
        if (attempt?.state?.name === stateName) attempt.parameters = structuredClone(parameters);
        attempt = undefined;
        if (payloadBytes(parameters) > MAX_PAYLOAD_BYTES)
          throw new DataLimitExceededError(subject, 'input', explicitly);
        // Every integration returns plain JSON (parsed responses, or what a Lambda handler returned through JSON).
        const result = (await task(parameters)) as Json;
        if (payloadBytes(result) > MAX_PAYLOAD_BYTES) throw new DataLimitExceededError(subject, 'result', explicitly);
        return result;
      };
    });
    const waitMs = options.timing?.waitMs ?? 20;
    const retryMs = options.timing?.retryMs ?? 20;
    const waitTimeOverrides = Object.fromEntries(
      stateNames(options.definition, (s) => s.Type === 'Wait').map((n) => [n, waitMs]),
    );
    const retryIntervalOverrides = Object.fromEntries(
      stateNames(options.definition, (s) => Boolean(s.Retry)).map((n) => [n, retryMs]),
    );

    const startDate = new Date();
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: options.stateMachineArn,
      name,
      status: 'RUNNING',
      input,
      startDate,
      history: [],
    };
    // Execution input is JSON: StartExecution and the event rules deliver it parsed.
    const runOptions: RunOptions & InterpreterRun['runOptions'] = {
      overrides: {
        taskResourceLocalHandlers,
        waitTimeOverrides,
        retryIntervalOverrides,
      },
      context: {
        Execution: { Id: executionArn, Name: name, Input: input as Json, StartTime: startDate.toISOString() },
        StateMachine: { Id: options.stateMachineArn, Name: options.stateMachineArn.split(':').pop() },
      },
      [EXECUTION_HOOK]: hook,
    };
    const run = this.machine.run(input as Json, runOptions);

    const recordEvents = (async () => {
      for await (const event of run.eventLogs as AsyncIterable<HistoryEvent>) {
        record.history.push(event);
        options.onEvent?.(record, event);
      }
    })();

    let stopRequest: { error?: string; cause?: string } | undefined;
    const done = (async () => {
      try {
        record.output = await run.result;
        record.status = 'SUCCEEDED';
      } catch (error) {
        const e = error as { name?: string; cause?: { name?: string; message?: string }; message?: string };
        if (stopRequest || e.name === 'ExecutionAbortedError') {
          record.status = 'ABORTED';
          record.error = stopRequest?.error;
          record.cause = stopRequest?.cause;
        } else if (e.name === 'ExecutionTimeoutError') {
          record.status = 'TIMED_OUT';
          record.error = 'States.Timeout';
          record.cause = 'The execution exceeded its TimeoutSeconds.';
        } else {
          record.status = 'FAILED';
          record.error = e.cause?.name ?? e.name;
          record.cause = e.cause?.message ?? e.message;
        }
      }
      controller.abort();
      record.stopDate = new Date();
      await recordEvents.catch(() => undefined);
      if (record.status === 'ABORTED' || record.status === 'TIMED_OUT') {
        // Step Functions stops a .sync training, transform or tuning job when its execution ends early (best effort).
        await Promise.all([
          ...[...trainingJobs].map((job) =>
            options.sageMaker.send(new StopTrainingJobCommand({ TrainingJobName: job })).catch(() => undefined),
          ),
          ...[...transformJobs].map((job) =>
            options.sageMaker.send(new StopTransformJobCommand({ TransformJobName: job })).catch(() => undefined),
          ),
          ...[...tuningJobs].map((job) =>
            options.sageMaker
              .send(new StopHyperParameterTuningJobCommand({ HyperParameterTuningJobName: job }))
              .catch(() => undefined),
          ),
        ]);
      }
      await options.onFinished?.(record);
      return record;
    })();

    const execution: LocalExecution = {
      record,
      done,
      stop: (error, cause) => {
        if (record.status !== 'RUNNING') return;
        stopRequest = { error, cause };
        run.abort();
      },
    };
    this.executions.set(executionArn, execution);
    return execution;
  }
}

/** What a DataLimitExceeded cause names: a Lambda function's ARN, else the integration (e.g. `aws-sdk:sagemaker`). */
function dataLimitSubject(resource: string): string {
  if (/^arn:[^:]+:lambda:/.test(resource)) return resource;
  const path = resource.replace(/^arn:[^:]+:states:::/, '');
  return path.includes(':') ? path.slice(0, path.lastIndexOf(':')) : path;
}

/** A StartExecution refusal, named as the service names it (`err.name` in the SDK). */
export class StartExecutionError extends Error {
  constructor(name: 'InvalidName' | 'ValidationException', message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * StartExecution's name rule: 1–80 characters, none of white space, brackets `< > { } [ ]`, wildcards `? *`, the
 * characters `" # % \ ^ | ~ \` $ & , ; : /`, nor control characters (U+0000–U+001F, U+007F–U+009F).
 */
const INVALID_NAME_CHARACTERS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]/u;
export const MAX_EXECUTION_NAME_LENGTH = 80;

export function checkExecutionName(name: string): void {
  const length = [...name].length;
  if (length < 1 || length > MAX_EXECUTION_NAME_LENGTH || INVALID_NAME_CHARACTERS.test(name)) {
    throw new StartExecutionError('InvalidName', `Invalid Name: '${name}'`);
  }
}

/** StartExecution's `input` member: at most 262,144 characters (the service model's length constraint). */
export function checkExecutionInput(inputText: string): void {
  if (inputText.length > MAX_PAYLOAD_BYTES && [...inputText].length > MAX_PAYLOAD_BYTES) {
    throw new StartExecutionError(
      'ValidationException',
      `1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PAYLOAD_BYTES}`,
    );
  }
}
