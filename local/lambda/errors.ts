import type { FunctionErrorPayload } from './protocol';

/** Lambda's synchronous invocation payload quota, request and response alike: 6 MB (6,291,456 bytes). */
export const MAX_SYNC_PAYLOAD_BYTES = 6_291_456;

/**
 * An invocation that ran (or tried to) and failed: the Invoke API answers 200 with X-Amz-Function-Error and this
 * payload, which Step Functions reports as the error (errorType) and cause (the payload as JSON).
 */
export class FunctionError extends Error {
  constructor(readonly payload: FunctionErrorPayload) {
    super(payload.errorMessage);
    this.name = payload.errorType;
  }
}

/** The Lambda service refused the call before running anything (Step Functions reports it as `Lambda.<name>`). */
export class LambdaServiceError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
    readonly requestId: string,
  ) {
    super(message);
    this.name = name;
  }
}

/** The runtime did not answer before the function's timeout; Lambda stops the sandbox. */
export function timedOut(requestId: string, timeoutSeconds: number): FunctionError {
  return new FunctionError({
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
  });
}

/**
 * The runtime process ended during the invocation. `signal: aborted` is what V8 hitting its heap limit looks like
 * (node aborts); `exit status N` a process.exit(N) or a crash of the runtime.
 */
export function runtimeExited(requestId: string, how: 'signal: aborted' | `exit status ${number}`): FunctionError {
  return new FunctionError({
    errorType: 'Runtime.ExitError',
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${how}`,
  });
}

/** The serialised response is over the 6 MB quota: the function ran, its result is dropped. */
export function responseTooLarge(bytes: number): FunctionError {
  return new FunctionError({
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${MAX_SYNC_PAYLOAD_BYTES} bytes).`,
  });
}

/** The request is over the 6 MB quota: Lambda answers 413 RequestTooLargeException and runs nothing. */
export function requestTooLarge(bytes: number, requestId: string): LambdaServiceError {
  return new LambdaServiceError(
    'RequestTooLargeException',
    `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation (this one: ${bytes} bytes)`,
    413,
    requestId,
  );
}
