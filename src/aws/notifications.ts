import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { NOTIFICATION_DETAIL_TYPE, NOTIFICATION_SOURCE, type RunOutcome } from '../domain/notification';
import { PipelineError } from '../errors';
import { eventBridgeClient } from './clients';

/** EventBridge accepted the PutEvents call but rejected the entry. */
export class NotificationError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotificationError';
  }
}

/** Publishes a run's outcome on an EventBridge bus; subscribers match source/detail-type with their own rules. */
export async function publishRunOutcome(eventBusName: string, outcome: RunOutcome): Promise<void> {
  const response = await eventBridgeClient().send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: eventBusName,
          Source: NOTIFICATION_SOURCE,
          DetailType: NOTIFICATION_DETAIL_TYPE,
          Detail: JSON.stringify(outcome),
        },
      ],
    }),
  );
  if (response.FailedEntryCount) {
    const entry = response.Entries?.find((e) => e.ErrorCode);
    throw new NotificationError(
      `EventBridge refused the run notification: ${entry?.ErrorCode} ${entry?.ErrorMessage ?? ''}`.trim(),
    );
  }
}
