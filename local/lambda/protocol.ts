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

export type ToSandbox = { type: 'invoke'; requestId: string; event: string; deadline: number };

export type FromSandbox =
  | { type: 'ready' }
  | { type: 'initError'; error: FunctionErrorPayload }
  | { type: 'result'; requestId: string; payload: string }
  | { type: 'error'; requestId: string; error: FunctionErrorPayload };
