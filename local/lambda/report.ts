// What the local Lambda reports after each invocation, as Lambda's REPORT log line does (duration, memory).
import { wholeMb } from './memory';
import type { MemoryPeaks } from './protocol';

export interface InvocationReport {
  /** The function's key in serverless.yml (`prepare`) and its deployed name. */
  functionKey: string;
  functionName: string;
  requestId: string;
  /** Epoch milliseconds at which the request arrived. */
  startedAt: number;
  /** The handler's run time (Lambda's Duration); for a timeout or a crash, the time until the invoker gave up. */
  durationMs: number;
  /** The sandbox's init phase (loading the bundle), on the first invocation of a sandbox only. */
  initDurationMs?: number;
  memorySizeMb: number;
  status: 'success' | 'error' | 'timeout' | 'exited';
  errorType?: string;
  /** The invocation's memory peaks (see MemoryPeaks), or null when the runtime never reported any. */
  memory: MemoryPeaks | null;
}

/**
 * Lambda's REPORT line (text log format), with the local figures it is made of: "Max Memory Used" is the peak of
 * heap + external memory of the sandbox's isolate, not a resident set.
 */
export function reportLine(report: InvocationReport): string {
  const fields = [
    `REPORT RequestId: ${report.requestId}`,
    `Duration: ${report.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.ceil(report.durationMs)} ms`,
    `Memory Size: ${report.memorySizeMb} MB`,
    `Max Memory Used: ${report.memory ? wholeMb(report.memory.footprint) : '?'} MB`,
  ];
  if (report.initDurationMs !== undefined) fields.push(`Init Duration: ${report.initDurationMs.toFixed(2)} ms`);
  if (report.status !== 'success') fields.push(`Status: ${report.status}`);
  if (report.memory) {
    const { heapUsed, external, arrayBuffers } = report.memory;
    fields.push(
      `Max Heap Used: ${wholeMb(heapUsed)} MB`,
      `Max External: ${wholeMb(external)} MB (ArrayBuffers ${wholeMb(arrayBuffers)} MB)`,
    );
  }
  return fields.join('\t');
}
