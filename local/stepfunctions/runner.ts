import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { forEachState, stateNames, type AslDefinition } from '../../statemachine/definition';
import { taskForResource, type TaskHandler } from './integrations';

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
    if ([...this.executions.values()].some((e) => e.record.name === name)) {
      throw Object.assign(new Error(`Execution Already Exists: '${executionArn}'`), { name: 'ExecutionAlreadyExists' });
    }
    const controller = new AbortController();
    const trainingJobs = new Set<string>();
    const integration = {
      executionArn,
      sageMaker: options.sageMaker,
      syncPollMs: options.timing?.syncPollMs ?? 50,
      onTrainingJobStarted: (job: string) => trainingJobs.add(job),
      signal: controller.signal,
    };
    const taskResourceLocalHandlers: LocalHandlers = {};
    forEachState(options.definition, (stateName, state) => {
      if (state.Type !== 'Task') return;
      const task = taskForResource(state.Resource, options.lambdas, integration);
      // Every integration returns plain JSON (parsed responses, or what a Lambda handler returned through JSON).
      taskResourceLocalHandlers[stateName] = (input) => task(input) as Promise<Json>;
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
    const run = this.machine.run(input as Json, {
      overrides: {
        taskResourceLocalHandlers,
        waitTimeOverrides,
        retryIntervalOverrides,
      },
      context: {
        Execution: { Id: executionArn, Name: name, Input: input as Json, StartTime: startDate.toISOString() },
        StateMachine: { Id: options.stateMachineArn, Name: options.stateMachineArn.split(':').pop() },
      },
    });

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
        // Step Functions stops a .sync training job when its execution ends early (best effort).
        await Promise.all(
          [...trainingJobs].map((job) =>
            options.sageMaker.send(new StopTrainingJobCommand({ TrainingJobName: job })).catch(() => undefined),
          ),
        );
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
