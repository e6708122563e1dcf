import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { sfnClient } from './clients';

/** All history events of an execution, oldest first. */
export async function executionHistory(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let token: string | undefined;
  do {
    const page = await sfnClient().send(new GetExecutionHistoryCommand({ executionArn, nextToken: token, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    token = page.nextToken;
  } while (token);
  return events;
}
