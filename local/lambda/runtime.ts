/**
 * The Lambda runtime inside a sandbox (a worker thread), bundled on its own and started by the invoker: it loads the
 * function's bundle (the init phase), then runs one invocation at a time, as Lambda's Node.js runtime does, with a
 * Lambda context whose getRemainingTimeInMillis counts down to the invocation's deadline.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { lambdaContextOf } from './context';
import { MemorySampler } from './memory';
import type { FromSandbox, FunctionErrorPayload, SandboxData, ToSandbox } from './protocol';

type Handler = (event: unknown, context: Context) => unknown;

const data = workerData as SandboxData;
const port = parentPort!;
let current: string | undefined;
let startedAt = 0;
const memory = new MemorySampler((peaks) => {
  if (current) send({ type: 'memory', requestId: current, memory: peaks });
});

function send(message: FromSandbox): void {
  port.postMessage(message);
}

/** The invocation's memory peaks and handler time, once it has ended. */
function ending(): { memory: ReturnType<MemorySampler['stop']>; durationMs: number } {
  return { memory: memory.stop(), durationMs: performance.now() - startedAt };
}

/** What Lambda reports for an error the handler threw (the same shape the in-process invoker has always reported). */
function functionError(error: unknown): FunctionErrorPayload {
  const e = error as Error | undefined;
  return {
    errorType: e?.name || 'Error',
    errorMessage: e?.message ?? String(error),
    trace: (e?.stack ?? '').split('\n'),
  };
}

function context(requestId: string, deadline: number): Context {
  return lambdaContextOf({ ...data, requestId, deadline });
}

function initError(error: unknown): FunctionErrorPayload {
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'MODULE_NOT_FOUND')
    return { errorType: 'Runtime.ImportModuleError', errorMessage: `Error: ${e.message}`, trace: e.stack?.split('\n') };
  if (e instanceof SyntaxError)
    return {
      errorType: 'Runtime.UserCodeSyntaxError',
      errorMessage: `${e.name}: ${e.message}`,
      trace: e.stack?.split('\n'),
    };
  return functionError(error);
}

// Like Lambda's runtime: an error nobody awaited fails the invocation in flight, and the runtime exits.
process.on('uncaughtException', (error) => {
  if (current) send({ type: 'error', requestId: current, error: functionError(error), ...ending() });
  process.exit(129);
});
process.on('unhandledRejection', (reason) => {
  const e = reason as Error | undefined;
  const errorMessage = e instanceof Error ? `${e.name}: ${e.message}` : String(reason);
  if (current)
    send({
      type: 'error',
      requestId: current,
      error: { errorType: 'Runtime.UnhandledPromiseRejection', errorMessage },
      ...ending(),
    });
  process.exit(128);
});

let handler: Handler;
try {
  const loaded = createRequire(data.handlerFile)(data.handlerFile) as Record<string, unknown>;
  const exported = loaded[data.exportName];
  if (typeof exported !== 'function') {
    send({
      type: 'initError',
      error: {
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: `index.${data.exportName} is undefined or not exported`,
      },
    });
    process.exit(1);
  }
  handler = exported as Handler;
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'initError', error: initError(error) });
  process.exit(1);
}

port.on('message', (message: ToSandbox) => {
  if (message.type !== 'invoke') return;
  const { requestId, deadline } = message;
  current = requestId;
  startedAt = performance.now();
  memory.start();
  void (async () => {
    try {
      const result = await handler(JSON.parse(message.event), context(requestId, deadline));
      // Lambda serialises the returned value; undefined becomes null.
      const payload = JSON.stringify(result) ?? 'null';
      send({ type: 'result', requestId, payload, ...ending() });
    } catch (error) {
      send({ type: 'error', requestId, error: functionError(error), ...ending() });
    } finally {
      current = undefined;
    }
  })();
});
