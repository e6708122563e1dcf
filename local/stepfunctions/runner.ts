import { StateMachine } from 'aws-local-stepfunctions';
import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { forEachState, stateNames } from '../../statemachine/definition';
import { taskForResource, type TaskHandler } from './integrations';

// aws-local-stepfunctions 3 uses Promise.withResolvers, which Node 20 lacks.
if (typeof (Promise as any).withResolvers !== 'function') {
  (Promise as any).withResolvers = function withResolvers<T>() {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
}

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
  definition: any;
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
    this.machine = new StateMachine(options.definition, { validationOptions: { checkArn: true, checkPaths: true } });
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
    const taskResourceLocalHandlers: Record<string, TaskHandler> = {};
    forEachState(options.definition, (stateName, state) => {
      if (state.Type === 'Task')
        taskResourceLocalHandlers[stateName] = taskForResource(state.Resource, options.lambdas, integration);
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
    const run = this.machine.run(input as any, {
      overrides: {
        taskResourceLocalHandlers: taskResourceLocalHandlers as any,
        waitTimeOverrides,
        retryIntervalOverrides,
      },
      context: {
        Execution: { Id: executionArn, Name: name, Input: input as any, StartTime: startDate.toISOString() },
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
        const e = error as { name?: string; cause?: any; message?: string };
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
