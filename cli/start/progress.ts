// npm start's live view: the interpreter's events as they happen (Map iterations included, which the local
// GetExecutionHistory leaves out), one line per state with its duration.
import type { LocalCloudOptions } from '../../local/cloud';
import type { RunSummary } from '../../src/artifacts/summary';
import { progressPrinter as localProgressPrinter, stateKey } from '../../local/progress';

type OnEvent = NonNullable<LocalCloudOptions['onEvent']>;
type HistoryEvent = Parameters<OnEvent>[1];

interface StateTiming {
  name: string;
  /** Map iteration (0-based) for states inside a Map state. */
  iteration?: number;
  type: string;
  enteredAt: number;
  exitedAt?: number;
  status: 'running' | 'succeeded' | 'failed' | 'caught';
  error?: string;
}

/** Every state visit in order (Map iterations too), with its duration: the summary's `states`. */
export function stateTimeline(history: HistoryEvent[]): RunSummary['states'] {
  return stateTimings(history).map((s) => ({
    state: s.name,
    status: s.status,
    durationMs: s.exitedAt !== undefined ? s.exitedAt - s.enteredAt : null,
    ...(s.error ? { error: s.error } : {}),
  }));
}

/** Folds history events into one entry per state visit, in order. */
function stateTimings(history: HistoryEvent[]): StateTiming[] {
  const timeline: StateTiming[] = [];
  const open = new Map<string, StateTiming>();
  for (const event of history) {
    const name = event.state?.name;
    if (!name) continue;
    const key = stateKey(event);
    if (event.type === 'StateEntered') {
      const timing: StateTiming = { name, type: event.state!.type, enteredAt: event.timestamp, status: 'running' };
      if (event.index !== undefined) timing.iteration = event.index;
      timeline.push(timing);
      open.set(key, timing);
    } else if (event.type === 'StateExited' || event.type === 'StateFailed' || event.type === 'StateCaught') {
      const timing = open.get(key);
      if (!timing) continue;
      timing.exitedAt = event.timestamp;
      timing.status = event.type === 'StateExited' ? 'succeeded' : event.type === 'StateCaught' ? 'caught' : 'failed';
      if (event.Error) timing.error = event.Error;
      if (event.type !== 'StateFailed') open.delete(key);
    }
  }
  return timeline;
}

/** npm start's live view of one execution: the local cloud's progress printer. */
export function progressPrinter(write: (line: string) => void): OnEvent {
  const print = localProgressPrinter(write);
  return (_execution, event) => print(event);
}
