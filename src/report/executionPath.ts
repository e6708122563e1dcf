import type { ExecutionStep } from './types';

/** The parts of a Step Functions history event the report reads (GetExecutionHistory, or the local interpreter's). */
export interface HistoryEventLike {
  type?: string;
  timestamp?: Date | number | string;
  stateEnteredEventDetails?: { name?: string };
  stateExitedEventDetails?: { name?: string };
}

const time = (value: Date | number | string | undefined) => new Date(value ?? 0).getTime();

/**
 * The path an execution took, one step per state visit with its duration, from history events in order.
 * A state entered but not yet exited (the report's own state) is left out.
 */
export function executionPathFromHistory(events: HistoryEventLike[]): ExecutionStep[] {
  const steps: ExecutionStep[] = [];
  const open = new Map<string, number>();
  for (const event of events) {
    const type = event.type ?? "";
    if (type.endsWith("StateEntered") && event.stateEnteredEventDetails?.name) {
      open.set(event.stateEnteredEventDetails.name, time(event.timestamp));
    } else if (type.endsWith("StateExited") && event.stateExitedEventDetails?.name) {
      const name = event.stateExitedEventDetails.name;
      const entered = open.get(name);
      if (entered === undefined) continue;
      open.delete(name);
      steps.push({ state: name, status: 'succeeded', durationMs: time(event.timestamp) - entered });
    }
  }
  return steps;
}
