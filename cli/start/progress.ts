// npm start's live view: the interpreter's events as they happen (Map iterations included, which the local
// GetExecutionHistory leaves out), one line per state with its duration.
import type { LocalCloudOptions } from '../../local/cloud';
import type { RunSummary } from '../../src/artifacts/summary';
import { formatDuration } from '../common/format';

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

function label(event: HistoryEvent): string {
  return event.index === undefined ? event.state!.name : `  ${event.state!.name} #${event.index + 1}`;
}

/** States inside a Map state repeat per iteration: tell the iterations apart. */
function stateKey(event: HistoryEvent): string {
  return event.index === undefined ? event.state!.name : `${event.state!.name}[${event.index}]`;
}

/**
 * A live progress printer: one line when a state ends (or fails), with its duration. Polling loops (the endpoint
 * wait) are folded into one line with the number of rounds, printed when the loop is left.
 */
export function progressPrinter(write: (line: string) => void): OnEvent {
  const entered = new Map<string, number>();
  const seen = new Set<string>();
  let loop: { states: string[]; rounds: number; startedAt: number; endedAt: number } | undefined;
  const flushLoop = () => {
    if (!loop) return;
    const label = loop.states.join(' → ');
    write(`  ⟳ ${label} ×${loop.rounds + 1}  ${formatDuration(loop.endedAt - loop.startedAt).padStart(9)}`);
    loop = undefined;
  };
  return (_execution, event) => {
    if (!event.state?.name) {
      if (event.type === 'ExecutionStarted') write('▶ execution started');
      const map = (event.parentState as { name?: string } | undefined)?.name;
      if (event.type === 'MapIterationStarted') write(`  ▸ ${map} #${(event.index ?? 0) + 1} started`);
      if (event.type === 'MapIterationFailed')
        write(`  ✖ ${map} #${(event.index ?? 0) + 1} failed  ${event.Error ?? ''}`);
      return;
    }
    const name = stateKey(event);
    if (event.type === 'StateEntered') {
      entered.set(name, event.timestamp);
      return;
    }
    const duration = event.timestamp - (entered.get(name) ?? event.timestamp);
    const quiet = event.state?.type === 'Choice' || event.state?.type === 'Pass';
    if (event.type === 'StateExited' && !quiet) {
      if (seen.has(name)) {
        // A state seen before: another round of a polling loop.
        loop ??= { states: [], rounds: 0, startedAt: entered.get(name)!, endedAt: event.timestamp };
        if (!loop.states.includes(name)) loop.states.push(name);
        else if (name === loop.states[0]) loop.rounds += 1;
        loop.endedAt = event.timestamp;
        return;
      }
      flushLoop();
      seen.add(name);
      write(`  ✔ ${label(event).padEnd(22)} ${formatDuration(duration).padStart(9)}`);
    } else if (event.type === 'StateFailed') {
      flushLoop();
      write(`  ✖ ${label(event).padEnd(22)} ${formatDuration(duration).padStart(9)}  ${event.Error ?? ''}`);
    } else if (event.type === 'StateRetried') {
      write(`  ↻ ${label(event).padEnd(22)} retry ${event.retry?.attempt ?? ''}`);
    }
  };
}
