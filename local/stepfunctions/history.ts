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
  /**
   * Write Map iterations as AWS does (MapStateStarted, MapIterationStarted/Succeeded/Failed with `{name, index}`, each
   * iteration's state events, MapStateSucceeded/Failed). Off by default: src/aws/executions.ts stateVisits follows one
   * open state at a time, and the interleaved events of concurrent iterations would leave the Map state open.
   */
  mapIterations?: boolean;
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
  const caughtKey = (event: HistoryEvent) => `${event.index ?? ''}:${event.state!.name}`;
  const closed = () => events.length > 0 && TERMINAL_TYPES.has(events[events.length - 1].type);
  const history = record.history;
  const consumed = new Set<number>();
  const inIteration = (event: HistoryEvent) => event.index !== undefined || event.type.startsWith('MapIteration');
  for (let i = 0; i < history.length; i++) {
    const event = history[i];
    if (closed()) break;
    if (consumed.has(i) || event.type.startsWith('ParallelBranch')) continue;
    // Unless asked for (see HistoryOptions.mapIterations), Map iterations are left out.
    if (inIteration(event)) {
      if (options.mapIterations) mapIterationEvent(event);
      continue;
    }
    const mapState = options.mapIterations && event.state?.type === 'Map';
    if (mapState && (event.type === 'StateExited' || event.type === 'StateFailed')) endMapState(event, i);
    mapEvent(event);
    if (mapState && event.type === 'StateEntered') {
      add(event.timestamp, 'MapStateStarted', { mapStateStartedEventDetails: { length: iterations(i) } });
    }
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
        caught.add(caughtKey(event));
        return;
      case 'StateExited':
        if (!caught.delete(caughtKey(event)) && state!.type === 'Task') taskSucceeded(event);
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

  /** One event of an iteration: its start or end (`{name, index}` of the Map state), or one of its states' events. */
  function mapIterationEvent(event: HistoryEvent): void {
    if (!event.type.startsWith('MapIteration')) return mapEvent(event);
    const parent = (event.parentState as { name?: string } | undefined)?.name ?? '';
    const type = event.type as 'MapIterationStarted' | 'MapIterationSucceeded' | 'MapIterationFailed';
    const key = `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
    add(event.timestamp, type, { [key]: { name: parent, index: event.index } });
  }

  /**
   * Before a Map state ends: the iteration events the interpreter forwarded after it (they come from the iterations'
   * own loggers, asynchronously), then MapStateFailed or, unless a catcher took the failure, MapStateSucceeded.
   */
  function endMapState(event: HistoryEvent, position: number): void {
    for (let j = position + 1; j < history.length; j++) {
      const later = history[j];
      if (later.type === 'StateEntered' && later.index === undefined) break; // the execution's next state
      if (!consumed.has(j) && inIteration(later)) {
        consumed.add(j);
        mapIterationEvent(later);
      }
    }
    if (event.type === 'StateFailed') add(event.timestamp, 'MapStateFailed');
    else if (!caught.has(caughtKey(event))) add(event.timestamp, 'MapStateSucceeded');
  }

  /** The iterations a Map state entered at `position` started. */
  function iterations(position: number): number {
    let count = 0;
    for (let j = position + 1; j < history.length; j++) {
      const later = history[j];
      if (later.type === 'StateEntered' && later.index === undefined) break;
      if (later.type === 'MapIterationStarted') count++;
    }
    return count;
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
