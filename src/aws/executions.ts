import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { sfnClient } from './clients';

/** All history events of an execution, oldest first. */
export async function executionHistory(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let token: string | undefined;
  do {
    const page = await sfnClient().send(
      new GetExecutionHistoryCommand({ executionArn, nextToken: token, maxResults: 1000 }),
    );
    events.push(...(page.events ?? []));
    token = page.nextToken;
  } while (token);
  return events;
}

export interface StateVisit {
  name: string;
  /** Task, Wait, Choice, Pass, Succeed, Fail… */
  type: string;
  enteredAt: Date;
  exitedAt?: Date;
  status: 'running' | 'succeeded' | 'caught' | 'failed' | 'aborted';
  error?: string;
  cause?: string;
}

const FAILURE_DETAILS = [
  'taskFailedEventDetails',
  'lambdaFunctionFailedEventDetails',
  'taskTimedOutEventDetails',
  'lambdaFunctionTimedOutEventDetails',
  'activityFailedEventDetails',
] as const;

/** One entry per state visit, oldest first, with how it ended (a failure the state caught shows as `caught`). */
export function stateVisits(events: HistoryEvent[]): StateVisit[] {
  const visits: StateVisit[] = [];
  let open: StateVisit | undefined;
  for (const event of events) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered') && event.stateEnteredEventDetails) {
      open = {
        name: event.stateEnteredEventDetails.name!,
        type: type.slice(0, -'StateEntered'.length),
        enteredAt: event.timestamp!,
        status: 'running',
      };
      visits.push(open);
      continue;
    }
    if (!open) continue;
    // A new attempt after a failure is a retry: the failure did not end the state.
    if (type.endsWith('Scheduled')) {
      open.error = open.cause = undefined;
      continue;
    }
    const failure = FAILURE_DETAILS.map((key) => event[key]).find(Boolean) as
      { error?: string; cause?: string } | undefined;
    if (failure) {
      open.error = failure.error;
      open.cause = failure.cause;
    } else if (type.endsWith('StateExited')) {
      open.exitedAt = event.timestamp;
      open.status = open.error ? 'caught' : 'succeeded';
      open = undefined;
    } else if (type === 'ExecutionFailed' || type === 'ExecutionTimedOut' || type === 'ExecutionAborted') {
      open.exitedAt = event.timestamp;
      open.status = type === 'ExecutionAborted' ? 'aborted' : 'failed';
      const details =
        event.executionFailedEventDetails ?? event.executionTimedOutEventDetails ?? event.executionAbortedEventDetails;
      open.error ??= details?.error;
      open.cause ??= details?.cause;
      open = undefined;
    }
  }
  return visits;
}
