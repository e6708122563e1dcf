import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BundleCache } from './bundles';
import { heapLimits, type LambdaFunctionConfig } from './config';
import {
  FunctionError,
  MAX_SYNC_PAYLOAD_BYTES,
  requestTooLarge,
  responseTooLarge,
  runtimeExited,
  timedOut,
} from './errors';
import type { FromSandbox, MemoryPeaks, SandboxData, ToSandbox } from './protocol';
import { reportLine, type InvocationReport } from './report';

const RUNTIME_ENTRY = path.join(__dirname, 'runtime.ts');

/** The handlers' log levels, as LocalCloudOptions.lambdaLogLevel names them. */
export type LambdaLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

export interface LambdaInvokerOptions {
  /** The functions this invoker runs, by key (serverless.yml's function keys, or test fixtures). */
  functions: Record<string, LambdaFunctionConfig>;
  /** The deployed name of a function (`knn-pipeline-local-prepare`). */
  functionName: (key: string) => string;
  region: string;
  account: string;
  /**
   * The environment of every sandbox before Lambda's own variables (the stage's variables, region, endpoints and
   * credentials), read when a sandbox starts.
   */
  environment: () => Record<string, string>;
  /** A function's own credentials (its role's session), replacing those of `environment`. */
  credentials?: (key: string) => Record<string, string>;
  /** The handlers' log level (POWERTOOLS_LOG_LEVEL and AWS_LAMBDA_LOG_LEVEL); SILENT by default. */
  logLevel?: LambdaLogLevel;
  bundles?: BundleCache;
  /** Warm sandboxes kept per function between invocations (default 2); more concurrent ones are stopped after use. */
  maxIdlePerFunction?: number;
  /** Hears every invocation's report (duration, memory peaks) as it ends, before its result is returned. */
  onReport?: (report: InvocationReport) => void;
}

/** How an invocation ended, with what the runtime measured of it (no memory when it never reported any). */
type Ended = ({ ok: true; payload: string } | { ok: false; error: FunctionError }) & {
  status: InvocationReport['status'];
  memory?: MemoryPeaks | null;
  /** The handler's run time as the runtime measured it. */
  durationMs?: number;
};
type Outcome = Ended & {
  memory: MemoryPeaks | null;
  /** The sandbox's init phase, when this was its first invocation. */
  initDurationMs?: number;
};
type SandboxEvent = FromSandbox | { type: 'exit'; code: number; outOfMemory: boolean };

/**
 * One Lambda execution environment: a worker thread running the function's bundle with the function's heap limit,
 * one invocation at a time. It stays warm between invocations and is discarded once its runtime has exited (timeout,
 * out of memory, crash).
 */
class Sandbox {
  readonly worker: Worker;
  /** Set once the runtime has exited or is being stopped: the sandbox takes no more invocations. */
  dead = false;
  private exitedAlready = false;
  private ready = false;
  /** The init phase's error, once the runtime has reported one. */
  private initFailure?: FunctionError;
  private outOfMemory = false;
  private listener?: (event: SandboxEvent) => void;
  private readonly exited: Promise<void>;
  /** Settles once the init phase is over (ready, failed or exited). */
  readonly initialised: Promise<void>;
  private initDone!: () => void;
  private readonly createdAt = performance.now();
  /** The init phase's duration, until the first invocation has reported it. */
  private initDurationMs?: number;

  constructor(
    readonly fn: LambdaFunctionConfig,
    runtimeFile: string,
    data: SandboxData,
    env: Record<string, string>,
  ) {
    this.worker = new Worker(runtimeFile, {
      name: `lambda:${data.functionName}`,
      workerData: data,
      env,
      resourceLimits: heapLimits(fn.memorySize),
      // NODE_OPTIONS is not read by worker threads: its --enable-source-maps is passed on here.
      execArgv: fn.nodeOptions?.split(/\s+/).includes('--enable-source-maps') ? ['--enable-source-maps'] : [],
      // The handlers' output (CloudWatch in AWS) is forwarded by Node through this process's process.stdout/stderr
      // (whatever they are at the time: npm start --json sends it to stderr). Listening on the worker's own stdio
      // streams instead would keep the process alive after the worker is unref'ed.
    });
    this.initialised = new Promise((resolve) => (this.initDone = resolve));
    this.worker.on('message', (message: FromSandbox) => {
      if (message.type === 'ready') {
        this.ready = true;
        this.initDurationMs = performance.now() - this.createdAt;
      }
      if (message.type === 'initError') this.initFailure = new FunctionError(message.error);
      if (message.type === 'ready' || message.type === 'initError') this.initDone();
      this.listener?.(message);
    });
    this.worker.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') this.outOfMemory = true;
    });
    this.exited = new Promise((resolve) =>
      this.worker.on('exit', (code) => {
        this.dead = this.exitedAlready = true;
        this.initDone();
        this.listener?.({ type: 'exit', code, outOfMemory: this.outOfMemory });
        resolve();
      }),
    );
  }

  /**
   * Runs one invocation. The timeout counts from the request's arrival, so a cold start's init phase is inside it
   * (Lambda gives init its own 10 s): locally a function has slightly less time on a cold start, never more.
   */
  run(requestId: string, event: string, started: number): Promise<Outcome> {
    this.worker.ref();
    const timeoutMs = this.fn.timeout * 1000;
    const deadline = started + timeoutMs;
    // The peaks so far, from the runtime's progress messages: all there is when it never answers.
    let memory: MemoryPeaks | null = null;
    return new Promise<Outcome>((resolve) => {
      const finish = (outcome: Ended) => {
        clearTimeout(timer);
        this.listener = undefined;
        if (!this.dead) this.worker.unref();
        const initDurationMs = this.initDurationMs;
        this.initDurationMs = undefined;
        resolve({
          ...outcome,
          memory: outcome.memory ?? memory,
          ...(initDurationMs === undefined ? {} : { initDurationMs }),
        });
      };
      const timer = setTimeout(
        () => {
          finish({ ok: false, status: 'timeout', error: timedOut(requestId, this.fn.timeout) });
          void this.stop();
        },
        Math.max(0, deadline - Date.now()),
      );
      const invoke = () => this.worker.postMessage({ type: 'invoke', requestId, event, deadline } satisfies ToSandbox);
      this.listener = (message) => {
        switch (message.type) {
          case 'ready':
            return invoke();
          case 'initError':
            return finish({ ok: false, status: 'error', error: new FunctionError(message.error) });
          case 'memory':
            if (message.requestId === requestId) memory = message.memory;
            return;
          case 'result':
            if (message.requestId !== requestId) return;
            return finish({
              ok: true,
              status: 'success',
              payload: message.payload,
              memory: message.memory,
              durationMs: message.durationMs,
            });
          case 'error':
            if (message.requestId !== requestId) return;
            return finish({
              ok: false,
              status: 'error',
              error: new FunctionError(message.error),
              memory: message.memory,
              durationMs: message.durationMs,
            });
          case 'exit':
            return finish({
              ok: false,
              status: 'exited',
              error: runtimeExited(requestId, message.outOfMemory ? 'signal: aborted' : `exit status ${message.code}`),
            });
        }
      };
      if (this.initFailure) finish({ ok: false, status: 'error', error: this.initFailure });
      else if (this.exitedAlready) this.listener({ type: 'exit', code: 1, outOfMemory: this.outOfMemory });
      else if (this.ready) invoke();
    });
  }

  async stop(): Promise<void> {
    this.dead = true;
    if (!this.exitedAlready) await this.worker.terminate();
    await this.exited;
  }
}

/**
 * The local Lambda service: every invocation runs in a sandbox of its function (a worker thread with the function's
 * prebuilt bundle, heap limit and environment), bounded by the function's timeout and Lambda's 6 MB payload quotas.
 *
 * Out of memory: a worker's limits cover the V8 heap only. When the heap is full V8 aborts the runtime, which Lambda
 * reports as `Runtime.ExitError` ("Runtime exited with error: signal: aborted"), and so does this invoker. Lambda's
 * other out-of-memory error, `Runtime.OutOfMemory` ("signal: killed"), comes from the sandbox's total memory
 * (heap, Buffers, native memory, the runtime itself) passing memorySize; a worker thread shares its process's memory
 * and cannot be measured or killed that way, so it is not emulated.
 */
export class LambdaInvoker {
  private readonly bundles: BundleCache;
  private readonly idle = new Map<string, Sandbox[]>();
  private readonly sandboxes = new Set<Sandbox>();
  private stopped = false;

  constructor(private readonly options: LambdaInvokerOptions) {
    this.bundles = options.bundles ?? new BundleCache();
  }

  get functions(): Record<string, LambdaFunctionConfig> {
    return this.options.functions;
  }

  private config(key: string): LambdaFunctionConfig {
    const fn = this.options.functions[key];
    if (!fn) throw new Error(`The local Lambda has no function ${key}`);
    return fn;
  }

  /** Builds (or finds in the cache) the runtime's and every function's bundle. */
  async prepare(): Promise<void> {
    await Promise.all([
      this.bundles.bundle('lambda-runtime', RUNTIME_ENTRY),
      ...Object.values(this.options.functions).map((fn) => this.bundles.bundle(fn.key, fn.entry)),
    ]);
  }

  /**
   * Starts one sandbox of each function ahead of its first invocation (as Lambda's proactive initialisation and
   * provisioned concurrency do), one at a time so that the inits do not compete for the CPU with each other. An
   * invocation that arrives during a sandbox's init waits for it.
   */
  async prewarm(keys: string[] = Object.keys(this.options.functions)): Promise<void> {
    try {
      for (const key of keys) {
        if (this.stopped) return;
        if ((this.idle.get(key) ?? []).length > 0) continue;
        const sandbox = await this.start(this.config(key));
        sandbox.worker.unref();
        this.release(sandbox);
        await sandbox.initialised;
      }
    } catch {
      // Nothing is lost: the first invocation starts its sandbox itself and reports what goes wrong.
    }
  }

  /** The Lambda environment of one sandbox: what the cloud gives every function, then Lambda's reserved variables. */
  environment(fn: LambdaFunctionConfig, logStreamName: string): Record<string, string> {
    const functionName = this.options.functionName(fn.key);
    const logLevel = this.options.logLevel ?? 'SILENT';
    return {
      ...this.options.environment(),
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      // Not set by Lambda itself (the context's getRemainingTimeInMillis is the official source); a local extra.
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeout),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
      _HANDLER: fn.handler,
      ...(fn.nodeOptions ? { NODE_OPTIONS: fn.nodeOptions } : {}),
      // Each sandbox's logger follows the local cloud's lambdaLogLevel (both variables, so they never disagree).
      POWERTOOLS_LOG_LEVEL: logLevel,
      AWS_LAMBDA_LOG_LEVEL: logLevel,
      // The Lambda runtime is nodejs22.x; the SDK's notice about the local Node 20 is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...this.options.credentials?.(fn.key),
    };
  }

  private async start(fn: LambdaFunctionConfig): Promise<Sandbox> {
    const [runtimeFile, handlerFile] = await Promise.all([
      this.bundles.bundle('lambda-runtime', RUNTIME_ENTRY),
      this.bundles.bundle(fn.key, fn.entry),
    ]);
    if (this.stopped) throw new Error('The local Lambda service has stopped');
    const functionName = this.options.functionName(fn.key);
    const logStreamName = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomUUID().replaceAll('-', '')}`;
    const data: SandboxData = {
      handlerFile,
      exportName: fn.exportName,
      functionName,
      functionArn: `arn:aws:lambda:${this.options.region}:${this.options.account}:function:${functionName}`,
      memorySize: fn.memorySize,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName,
    };
    const sandbox = new Sandbox(fn, runtimeFile, data, this.environment(fn, logStreamName));
    this.sandboxes.add(sandbox);
    return sandbox;
  }

  private warm(key: string): Sandbox | undefined {
    const pool = this.idle.get(key) ?? [];
    let sandbox = pool.pop();
    while (sandbox?.dead) {
      this.sandboxes.delete(sandbox);
      sandbox = pool.pop();
    }
    return sandbox;
  }

  private release(sandbox: Sandbox): void {
    if (sandbox.dead || this.stopped) {
      this.sandboxes.delete(sandbox);
      return;
    }
    const pool = this.idle.get(sandbox.fn.key) ?? [];
    if (pool.length >= (this.options.maxIdlePerFunction ?? 2)) {
      this.sandboxes.delete(sandbox);
      void sandbox.stop();
      return;
    }
    pool.push(sandbox);
    this.idle.set(sandbox.fn.key, pool);
  }

  /**
   * Invokes a function synchronously (RequestResponse) with a JSON event: resolves to its JSON result, rejects with a
   * FunctionError (the function ran and failed) or a LambdaServiceError (Lambda refused the request).
   */
  async invoke(key: string, event: unknown): Promise<unknown> {
    const fn = this.config(key);
    const started = Date.now();
    const requestId = randomUUID();
    const request = JSON.stringify(event) ?? 'null';
    const requestBytes = Buffer.byteLength(request);
    if (requestBytes > MAX_SYNC_PAYLOAD_BYTES) throw requestTooLarge(requestBytes, requestId);
    if (this.stopped) throw new Error('The local Lambda service has stopped');
    const sandbox = this.warm(key) ?? (await this.start(fn));
    let outcome: Outcome;
    try {
      outcome = await sandbox.run(requestId, request, started);
    } finally {
      this.release(sandbox);
    }
    this.report(fn, requestId, started, outcome);
    if (!outcome.ok) throw outcome.error;
    const responseBytes = Buffer.byteLength(outcome.payload);
    if (responseBytes > MAX_SYNC_PAYLOAD_BYTES) throw responseTooLarge(responseBytes);
    return JSON.parse(outcome.payload);
  }

  /**
   * Lambda's REPORT of one invocation: to `onReport`, and as a line in the function's log (this process's stdout,
   * where the sandboxes' output goes) unless the handlers' log level is SILENT.
   */
  private report(fn: LambdaFunctionConfig, requestId: string, started: number, outcome: Outcome): void {
    const report: InvocationReport = {
      functionKey: fn.key,
      functionName: this.options.functionName(fn.key),
      requestId,
      startedAt: started,
      durationMs: outcome.durationMs ?? Date.now() - started,
      ...(outcome.initDurationMs === undefined ? {} : { initDurationMs: outcome.initDurationMs }),
      memorySizeMb: fn.memorySize,
      status: outcome.status,
      ...(outcome.ok ? {} : { errorType: outcome.error.name }),
      memory: outcome.memory,
    };
    if ((this.options.logLevel ?? 'SILENT') !== 'SILENT') process.stdout.write(`${reportLine(report)}\n`);
    this.options.onReport?.(report);
  }

  /** Stops every sandbox, warm or busy (a busy invocation fails with Runtime.ExitError). */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.sandboxes];
    this.sandboxes.clear();
    this.idle.clear();
    await Promise.all(all.map((sandbox) => sandbox.stop()));
  }
}
