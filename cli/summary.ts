import type { ExecutionRecord } from '../local/stepfunctions/runner';
import type { RunConfig } from '../src/domain/runConfig';

/** The run configuration Prepare produced, found in the execution's history (present even when a later step failed). */
export function runFromHistory(record: ExecutionRecord): RunConfig | undefined {
  for (const event of record.history) {
    if (event.type === 'StateExited' && event.state?.name === 'Prepare') {
      return (event.state.output as { run?: RunConfig } | undefined)?.run;
    }
  }
  return undefined;
}

export function stateOutput<T>(record: ExecutionRecord, stateName: string): T | undefined {
  for (const event of record.history) {
    if (event.type === 'StateExited' && event.state?.name === stateName) return event.state.output as T;
  }
  return undefined;
}
