/** The messages between the local Lambda service (main thread) and a sandbox's runtime (worker thread). */

/** What a sandbox starts with (`workerData`). */
export interface SandboxData {
  /** The bundled handler file and its export. */
  handlerFile: string;
  exportName: string;
  functionName: string;
  functionArn: string;
  memorySize: number;
  logGroupName: string;
  logStreamName: string;
}

/** Lambda's report of a failed invocation, as the Invoke API returns it (and Step Functions passes on). */
export interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/**
 * The memory one invocation used, as the sandbox's runtime can see it from inside its worker thread: the highest of
 * each figure over samples taken every few milliseconds while the event loop turns and once at the end (a stretch of
 * synchronous code is seen only at its edges, and the heap just before a garbage collection is seen only if a sample
 * falls there). Bytes.
 */
export interface MemoryPeaks {
  /** V8 heap in use (live objects and garbage not yet collected): `heapUsed`. */
  heapUsed: number;
  /** V8 heap reserved by this isolate (`heapTotal`), at least heapUsed. */
  heapTotal: number;
  /** Memory outside the V8 heap that this isolate's objects hold and report to V8 (Buffers, ArrayBuffers, …). */
  external: number;
  /** The part of `external` in ArrayBuffers and Buffers. */
  arrayBuffers: number;
  /**
   * heapTotal + external at the same instant, the highest seen: the closest a worker thread comes to a Lambda
   * sandbox's resident memory ("Max Memory Used"). It leaves out the runtime's own native memory (code, threads).
   */
  footprint: number;
  /** The whole process's resident set (shared with the local cloud and every other sandbox): context only. */
  processRss: number;
  /** How many samples the peaks come from. */
  samples: number;
}

export type ToSandbox = { type: 'invoke'; requestId: string; event: string; deadline: number };

export type FromSandbox =
  | { type: 'ready' }
  | { type: 'initError'; error: FunctionErrorPayload }
  | { type: 'result'; requestId: string; payload: string; memory: MemoryPeaks; durationMs: number }
  | { type: 'error'; requestId: string; error: FunctionErrorPayload; memory: MemoryPeaks; durationMs: number }
  /** The peaks so far, sent while the invocation runs when they grow, so a timeout or a crash still has them. */
  | { type: 'memory'; requestId: string; memory: MemoryPeaks };
