// The local interpreter's events as people read them: one line per state when it ends (or fails), with its
// duration. Shared by `npm run local` (local/server.ts) and `npm start` (cli/start/progress.ts).
import type { HistoryEvent } from './stepfunctions/runner';

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** States inside a Map state repeat per iteration: tell the iterations apart. */
export function stateKey(event: HistoryEvent): string {
  return event.index === undefined ? event.state!.name : `${event.state!.name}[${event.index}]`;
}

function stateLabel(event: HistoryEvent): string {
  return event.index === undefined ? event.state!.name : `  ${event.state!.name} #${event.index + 1}`;
}

/**
 * A live progress printer for one execution. Polling loops (the endpoint wait) fold into one line with the number
 * of rounds, printed when the loop is left.
 */
export function progressPrinter(write: (line: string) => void): (event: HistoryEvent) => void {
  const entered = new Map<string, number>();
  const seen = new Set<string>();
  const waiting = new Set<string>();
  let loop: { states: string[]; rounds: number; startedAt: number; endedAt: number } | undefined;
  const flushLoop = () => {
    if (!loop) return;
    const took = formatDuration(loop.endedAt - loop.startedAt).padStart(9);
    write(`  ⟳ ${loop.states.join(' → ')} ×${loop.rounds + 1}  ${took}`);
    loop = undefined;
  };
  return (event) => {
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
    const wait = capacityWait(event);
    if (wait && !waiting.has(name)) {
      // The first time a claim has to wait: which quota, since when (README "Bursts and quotas").
      waiting.add(name);
      flushLoop();
      write(`  ⏳ ${stateLabel(event)}: waiting for '${wait.quota}' since ${wait.since}${wait.detail}`);
    }
    const quiet = event.state.type === 'Choice' || event.state.type === 'Pass';
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
      write(`  ✔ ${stateLabel(event).padEnd(22)} ${formatDuration(duration).padStart(9)}`);
    } else if (event.type === 'StateFailed') {
      flushLoop();
      write(`  ✖ ${stateLabel(event).padEnd(22)} ${formatDuration(duration).padStart(9)}  ${event.Error ?? ''}`);
    } else if (event.type === 'StateRetried') {
      write(`  ↻ ${stateLabel(event).padEnd(22)} retry ${event.retry?.attempt ?? ''}`);
    }
  };
}

/** A capacity poll (functions/capacity.ts) that answered "wait": the quota, since when, and the claims ahead. */
function capacityWait(event: HistoryEvent): { quota: string; since: string; detail: string } | undefined {
  if (event.type !== 'StateExited' || !/^Await.*Capacity$/.test(event.state?.name ?? '')) return undefined;
  const capacity = (event.state!.output as { capacity?: Record<string, unknown> } | undefined)?.capacity;
  if (capacity?.decision !== 'wait' || typeof capacity.enqueuedAt !== 'number') return undefined;
  const since = new Date(capacity.enqueuedAt).toISOString().slice(11, 19);
  const limit = typeof capacity.limit === 'number' ? `, quota ${capacity.limit}` : '';
  return { quota: String(capacity.quota), since: `${since} UTC`, detail: ` (${Number(capacity.ahead)} ahead${limit})` };
}
