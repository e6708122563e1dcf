// GetExecutionHistory's event shapes, built from the interpreter's events (aws-local-stepfunctions' eventLogs).
import type { ExecutionRecord, HistoryEvent } from './runner';
import { forEachState, type AslDefinition } from '../../statemachine/definition';

/** One event as the Step Functions API returns it (`timestamp` as a Date here; the wire format is epoch seconds). */
export interface ApiHistoryEvent {
  timestamp: Date;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

export interface HistoryOptions {
  /** Task state name → its Resource, to tell Lambda functions from service integrations. */
  taskResources: Record<string, string>;
  roleArn: string;
  /** The state machine's region, where its service integrations run. */
  region: string;
  /** GetExecutionHistory's includeExecutionData: false leaves out inputs, outputs, errors and causes. */
  includeExecutionData?: boolean;
}

const LAMBDA_FUNCTION_ARN = /^arn:[^:]+:lambda:[^:]+:\d+:function:/;
const TERMINAL_TYPES = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

export function taskResources(definition: AslDefinition): Record<string, string> {
  const resources: Record<string, string> = {};
  forEachState(definition, (name, state) => {
    if (state.Type === 'Task') resources[name] = state.Resource;
  });
  return resources;
}

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * `arn:aws:states:::sagemaker:createTrainingJob.sync` → resourceType `sagemaker`, resource `createTrainingJob.sync`.
 */
function serviceIntegration(resource: string): { resourceType: string; resource: string } {
  const path = resource.replace(/^arn:[^:]+:states:::/, '');
  const cut = path.lastIndexOf(':');
  return cut < 0
    ? { resourceType: path, resource: path }
    : { resourceType: path.slice(0, cut), resource: path.slice(cut + 1) };
}

/**
 * Maps the interpreter's events onto the service's: `<Type>StateEntered` / `<Type>StateExited` per state; per Task
 * attempt `LambdaFunctionScheduled/Started/Succeeded/Failed` (bare function ARN) or `TaskScheduled/Started/Succeeded/
 * Failed` (service integration); one closing Execution event. A retry shows as a new Scheduled after the failure and a
 * catch as the state exiting after it, as in the service. Scheduled carries the request the attempt sent (after
 * InputPath and Parameters, recorded by runner.ts as `parameters`); the interpreter does not expose a task's raw
 * result, so Succeeded carries the state output.
 */
export function apiHistory(record: ExecutionRecord, options: HistoryOptions): ApiHistoryEvent[] {
  const withData = options.includeExecutionData ?? true;
  const events: ApiHistoryEvent[] = [];
  const add = (timestamp: number, type: string, details: Record<string, unknown> = {}) => {
    events.push({
      timestamp: new Date(timestamp),
      type,
      id: events.length + 1,
      previousEventId: events.length,
      ...details,
    });
  };
  const payload = (key: 'input' | 'output', value: unknown) =>
    withData ? { [key]: json(value), [`${key}Details`]: { truncated: false } } : {};
  const errorDetails = (error: unknown, cause: unknown) =>
    withData
      ? {
          ...(text(error) !== undefined ? { error: text(error) } : {}),
          ...(text(cause) !== undefined ? { cause: text(cause) } : {}),
        }
      : {};

  const caught = new Set<string>();
  const closed = () => events.length > 0 && TERMINAL_TYPES.has(events[events.length - 1].type);
  for (const event of record.history) {
    if (closed()) break;
    // Map iterations (CrossValidate's folds) and Parallel branches are left out, unlike AWS: the history's readers
    // (src/aws/executions.ts stateVisits) follow one open state at a time, which interleaved iterations would break.
    if (event.index !== undefined || event.type.startsWith('MapIteration') || event.type.startsWith('ParallelBranch'))
      continue;
    mapEvent(event);
  }
  if (record.status !== 'RUNNING' && !closed()) {
    // The interpreter can end (a stop) without logging it; the service always closes the history.
    addTerminal(record.stopDate?.getTime() ?? Date.now());
  }
  return events;

  function mapEvent(event: HistoryEvent): void {
    const state = event.state;
    switch (event.type) {
      case 'ExecutionStarted':
        add(event.timestamp, 'ExecutionStarted', {
          executionStartedEventDetails: { ...payload('input', record.input), roleArn: options.roleArn },
        });
        return;
      case 'StateEntered':
        add(event.timestamp, `${state!.type}StateEntered`, {
          stateEnteredEventDetails: { name: state!.name, ...payload('input', state!.input) },
        });
        if (state!.type === 'Task') taskAttempt(event);
        return;
      case 'StateRetried':
        if (state?.type === 'Task') taskAttempt(event);
        return;
      case 'StateCaught':
        caught.add(state!.name);
        return;
      case 'StateExited':
        if (state!.type === 'Task' && !caught.delete(state!.name)) taskSucceeded(event);
        add(event.timestamp, `${state!.type}StateExited`, {
          stateExitedEventDetails: { name: state!.name, ...payload('output', state!.output) },
        });
        return;
      case 'StateFailed': {
        // A Fail state ends in ExecutionFailed alone; only Task attempts have a failure event.
        if (state?.type !== 'Task') return;
        const resource = options.taskResources[state.name] ?? '';
        if (LAMBDA_FUNCTION_ARN.test(resource)) {
          add(event.timestamp, 'LambdaFunctionFailed', {
            lambdaFunctionFailedEventDetails: errorDetails(event.Error, event.Cause),
          });
        } else {
          add(event.timestamp, 'TaskFailed', {
            taskFailedEventDetails: { ...serviceIntegration(resource), ...errorDetails(event.Error, event.Cause) },
          });
        }
        return;
      }
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimeout':
        addTerminal(event.timestamp, event);
        return;
      default:
        return;
    }
  }

  function taskAttempt(event: HistoryEvent): void {
    const resource = options.taskResources[event.state!.name] ?? '';
    // What the attempt sent (after InputPath and Parameters); an attempt stopped before its handler ran sent nothing.
    const request = 'parameters' in event ? event.parameters : {};
    if (LAMBDA_FUNCTION_ARN.test(resource)) {
      add(event.timestamp, 'LambdaFunctionScheduled', {
        lambdaFunctionScheduledEventDetails: { resource, ...payload('input', request) },
      });
      add(event.timestamp, 'LambdaFunctionStarted');
    } else {
      const integration = serviceIntegration(resource);
      add(event.timestamp, 'TaskScheduled', {
        taskScheduledEventDetails: {
          ...integration,
          region: options.region,
          parameters: withData ? json(request) : '',
        },
      });
      add(event.timestamp, 'TaskStarted', { taskStartedEventDetails: integration });
    }
  }

  function taskSucceeded(event: HistoryEvent): void {
    const resource = options.taskResources[event.state!.name] ?? '';
    if (LAMBDA_FUNCTION_ARN.test(resource)) {
      add(event.timestamp, 'LambdaFunctionSucceeded', {
        lambdaFunctionSucceededEventDetails: payload('output', event.state!.output),
      });
    } else {
      add(event.timestamp, 'TaskSucceeded', {
        taskSucceededEventDetails: { ...serviceIntegration(resource), ...payload('output', event.state!.output) },
      });
    }
  }

  function addTerminal(timestamp: number, event?: HistoryEvent): void {
    switch (record.status === 'RUNNING' ? terminalStatus(event!) : record.status) {
      case 'SUCCEEDED':
        add(timestamp, 'ExecutionSucceeded', {
          executionSucceededEventDetails: payload('output', record.output ?? event?.output),
        });
        return;
      case 'FAILED':
        add(timestamp, 'ExecutionFailed', {
          executionFailedEventDetails: errorDetails(record.error ?? event?.Error, record.cause ?? event?.Cause),
        });
        return;
      case 'ABORTED':
        add(timestamp, 'ExecutionAborted', { executionAbortedEventDetails: errorDetails(record.error, record.cause) });
        return;
      case 'TIMED_OUT':
        add(timestamp, 'ExecutionTimedOut', {
          executionTimedOutEventDetails: errorDetails(record.error ?? 'States.Timeout', record.cause),
        });
        return;
      default:
        return;
    }
  }
}

/** The status an interpreter terminal event stands for, while the record is still being closed. */
function terminalStatus(event: HistoryEvent): ExecutionRecord['status'] {
  switch (event.type) {
    case 'ExecutionSucceeded':
      return 'SUCCEEDED';
    case 'ExecutionFailed':
      return 'FAILED';
    case 'ExecutionAborted':
      return 'ABORTED';
    default:
      return 'TIMED_OUT';
  }
}
