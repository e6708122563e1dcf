/**
 * A pool of worker threads for large exact searches: each worker instantiates the SIMD kernels on the index's
 * shared WebAssembly memory (no copy of the stored points) and runs SearchCore over chunks of the queries, taken
 * from a shared counter so a slower core simply takes fewer chunks. Results land in shared arrays; a query's answer
 * depends only on that query, so any split gives the same result as a single-threaded search.
 *
 * The worker's code is a JavaScript string (`new Worker(source, { eval: true })`) built from
 * `SearchCore.toString()`: it needs no file on disk, so it runs the same under tsx, jest and in an esbuild bundle.
 * Workers are unref'd (an idle pool never keeps the process alive) and started once, on first use.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { SearchCore, type SearchPlan } from './searchCore';
import { type KernelMemory, kernelModuleBytes } from './simdKernels';

// Slots of the shared Int32 control array of one parallel search.
const NEXT_CHUNK = 0;
const DONE = 1;
const FAILED = 2;
const CONTROL_SLOTS = 3;
// Slots of the pool's shared Int32 state: startup counts, and a heartbeat every worker bumps as it makes progress
// on any search (so a search queued behind another is not mistaken for a stuck one).
const READY = 0;
const STARTUP_FAILED = 1;
const HEARTBEAT = 2;
const POOL_STATE_SLOTS = 3;
/** More threads than this rarely pays for the memory of their isolates. */
const MAX_WORKERS = 16;
/** A worker that has not started (or a search with no progress) for this long is reported as broken. */
const STALL_MS = 60_000;
/** How long a synchronous wait sleeps between progress checks. */
const WAIT_SLICE_MS = 1000;

export interface ParallelSearchJob {
  memory: KernelMemory;
  /** One plan per worker (they differ only in scratchPtr). */
  plans: SearchPlan[];
  /** Row-major queries, in shared memory so workers read them without a copy. */
  queries: Float32Array;
  queryCount: number;
  chunkQueries: number;
}

export interface ParallelSearchOutput {
  distances: Float32Array;
  indices: Int32Array;
}

interface WorkerSlot {
  worker: Worker;
  /** Errors from the worker, read with receiveMessageOnPort (works while this thread is blocked in Atomics.wait). */
  errors: MessagePort;
}

interface Pool {
  slots: WorkerSlot[];
  state: Int32Array;
  /** Asynchronous searches running: the workers are ref'd while there is one, so the process waits for it. */
  asyncSearches: number;
  broken?: string;
}

let pool: Pool | undefined;
let nextTaskId = 0;

/** How many worker threads a parallel search uses: the cores available (at most 16); 1 means no pool. */
export function searchWorkerCount(): number {
  return Math.min(MAX_WORKERS, availableParallelism());
}

/** Starts the pool now (otherwise the first parallel search does; about 30–60 ms). */
export function startSearchWorkers(): void {
  ensurePool();
}

/** Terminates the pool's workers (tests and benchmarks; the next parallel search starts a new pool). */
export async function stopSearchWorkers(): Promise<void> {
  const stopping = pool;
  pool = undefined;
  if (!stopping) return;
  await Promise.all(
    stopping.slots.map(async ({ worker, errors }) => {
      errors.close();
      await worker.terminate();
    }),
  );
}

/** Runs the job on every worker and blocks this thread until all are done (Atomics.wait). */
export function runParallelSearchSync(job: ParallelSearchJob): ParallelSearchOutput {
  const { slots, state } = ensurePool();
  const task = postTasks(slots, job);
  let lastProgress = -1;
  let lastChange = Date.now();
  for (;;) {
    const done = Atomics.load(task.control, DONE);
    if (done >= task.workers) break;
    Atomics.wait(task.control, DONE, done, WAIT_SLICE_MS);
    const progress = Atomics.load(state, HEARTBEAT);
    if (progress !== lastProgress) {
      lastProgress = progress;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) {
      // Terminate the pool (a stuck worker would keep a core busy); the next parallel search starts a new one.
      void stopSearchWorkers();
      throw new Error(`k-NN search workers made no progress for ${STALL_MS / 1000} s`);
    }
  }
  return finish(slots, task);
}

/** Runs the job on every worker; resolves when all are done, leaving this thread's event loop free meanwhile. */
export async function runParallelSearch(job: ParallelSearchJob): Promise<ParallelSearchOutput> {
  const current = ensurePool();
  const { slots } = current;
  const task = postTasks(slots, job);
  if (current.asyncSearches++ === 0) for (const { worker } of slots) worker.ref();
  try {
    const errors = await Promise.all(
      slots.slice(0, task.workers).map(
        ({ worker }) =>
          new Promise<string | null>((resolve, reject) => {
            const onMessage = (message: { id?: unknown; error?: string | null }): void => {
              if (message?.id !== task.id) return;
              cleanup();
              resolve(message.error ?? null);
            };
            const onExit = (code: number): void => {
              cleanup();
              reject(new Error(`a k-NN search worker exited (code ${code}) during a search`));
            };
            const cleanup = (): void => {
              worker.off('message', onMessage);
              worker.off('exit', onExit);
            };
            worker.on('message', onMessage);
            worker.on('exit', onExit);
          }),
      ),
    );
    const failures = errors.filter((error): error is string => error !== null);
    if (failures.length > 0) {
      drainErrors(slots); // the same errors, also queued for synchronous readers
      throw workerError(failures);
    }
  } finally {
    if (--current.asyncSearches === 0) for (const { worker } of slots) worker.unref();
  }
  return finish(slots, task);
}

interface PostedTask {
  id: number;
  workers: number;
  control: Int32Array;
  distances: Float32Array;
  indices: Int32Array;
}

function postTasks(slots: WorkerSlot[], job: ParallelSearchJob): PostedTask {
  const k = job.plans[0].k;
  const workers = Math.min(slots.length, job.plans.length);
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS));
  const distances = new Float32Array(new SharedArrayBuffer(4 * job.queryCount * k));
  const indices = new Int32Array(new SharedArrayBuffer(4 * job.queryCount * k));
  const id = nextTaskId++;
  for (let i = 0; i < workers; i++) {
    slots[i].worker.postMessage({
      id,
      memory: job.memory,
      plan: job.plans[i],
      queries: job.queries.buffer,
      queriesOffset: job.queries.byteOffset,
      queryCount: job.queryCount,
      chunkQueries: job.chunkQueries,
      chunks: Math.ceil(job.queryCount / job.chunkQueries),
      control: control.buffer,
      distances: distances.buffer,
      indices: indices.buffer,
    });
  }
  return { id, workers, control, distances, indices };
}

/** Copies the shared results into ordinary arrays, or throws the first worker error. */
function finish(slots: WorkerSlot[], task: PostedTask): ParallelSearchOutput {
  if (Atomics.load(task.control, FAILED) !== 0) throw workerError(drainErrors(slots));
  return { distances: Float32Array.from(task.distances), indices: Int32Array.from(task.indices) };
}

/** The error messages the workers have posted so far (read synchronously). */
function drainErrors(slots: WorkerSlot[]): string[] {
  const messages: string[] = [];
  for (const { errors } of slots) {
    for (let message = receiveMessageOnPort(errors); message; message = receiveMessageOnPort(errors)) {
      messages.push(String(message.message));
    }
  }
  return messages;
}

function workerError(messages: string[]): Error {
  const text = messages.join('\n') || 'unknown error';
  // Instrumenting coverage (babel/istanbul) rewrites SearchCore with counters that exist only in the main thread.
  const hint = /\bcov_\w+/.test(text)
    ? " (coverage instrumentation cannot run in worker threads: use jest's coverageProvider 'v8')"
    : '';
  return new Error(`k-NN search worker failed${hint}: ${text}`);
}

function ensurePool(): Pool {
  if (pool?.broken) {
    const reason = pool.broken;
    void stopSearchWorkers();
    throw new Error(`k-NN search workers are unavailable: ${reason}`);
  }
  if (pool) return pool;
  const count = searchWorkerCount();
  const state = new Int32Array(new SharedArrayBuffer(4 * POOL_STATE_SLOTS));
  const source = workerSource();
  const moduleBytes = kernelModuleBytes();
  const slots: WorkerSlot[] = [];
  const created: Pool = { slots, state, asyncSearches: 0 };
  for (let i = 0; i < count; i++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(source, {
      eval: true,
      workerData: { moduleBytes, state: state.buffer, errorPort: port2 },
      transferList: [port2],
    });
    worker.unref();
    // An unhandled 'error' event would crash the process; a dead worker only makes the pool unusable.
    worker.on('error', (error) => {
      created.broken = `a worker failed: ${error instanceof Error ? error.message : String(error)}`;
    });
    worker.on('exit', () => {
      created.broken ??= 'a worker exited';
    });
    slots.push({ worker, errors: port1 });
  }
  // Wait (blocking, briefly) until every worker has compiled the kernels, so a broken environment fails here, loudly.
  const deadline = Date.now() + STALL_MS;
  while (Atomics.load(state, READY) + Atomics.load(state, STARTUP_FAILED) < count) {
    const seen = Atomics.load(state, READY);
    if (Date.now() > deadline) break;
    Atomics.wait(state, READY, seen, 50);
  }
  const failures = drainErrors(slots);
  if (Atomics.load(state, READY) < count) {
    pool = created;
    created.broken = failures.join('\n') || 'workers did not start';
    return ensurePool();
  }
  pool = created;
  return pool;
}

/**
 * The worker's program. `SearchCore.toString()` is the class as the current toolchain emitted it; a keepNames build
 * (tsx, esbuild --keep-names) adds `static { __name(this, "SearchCore") }` naming code, which is dropped here. The
 * class is compiled with `new Function` inside the try, so even a syntax error is reported instead of a silent hang.
 */
function workerSource(): string {
  const core = SearchCore.toString().replace(/static\s*\{\s*[\w$]+\(\s*this\s*,\s*(["'])[\w$]*\1\s*\)\s*;?\s*\}/, '');
  return `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
const errors = workerData.errorPort;
let kernelModule;
let SearchCore;
try {
  SearchCore = new Function(${JSON.stringify(`'use strict'; return (${core});`)})();
  kernelModule = new WebAssembly.Module(workerData.moduleBytes);
  Atomics.add(state, ${READY}, 1);
} catch (error) {
  errors.postMessage(String((error && error.stack) || error));
  Atomics.add(state, ${STARTUP_FAILED}, 1);
}
Atomics.notify(state, ${READY});
parentPort.on('message', (task) => {
  const control = new Int32Array(task.control);
  let failure = null;
  try {
    const { exports } = new WebAssembly.Instance(kernelModule, { env: { memory: task.memory } });
    const core = new SearchCore(exports, task.memory.buffer, task.plan, state, ${HEARTBEAT});
    const queries = new Float32Array(task.queries, task.queriesOffset, task.queryCount * task.plan.dim);
    const distances = new Float32Array(task.distances);
    const indices = new Int32Array(task.indices);
    for (;;) {
      const chunk = Atomics.add(control, ${NEXT_CHUNK}, 1);
      if (chunk >= task.chunks) break;
      const first = chunk * task.chunkQueries;
      core.search(queries, first, Math.min(task.chunkQueries, task.queryCount - first), distances, indices);
      Atomics.add(state, ${HEARTBEAT}, 1);
    }
  } catch (error) {
    failure = String((error && error.stack) || error);
    // Posted before DONE, so a thread blocked in Atomics.wait finds it with receiveMessageOnPort.
    errors.postMessage(failure);
    Atomics.store(control, ${FAILED}, 1);
  } finally {
    Atomics.add(control, ${DONE}, 1);
    Atomics.notify(control, ${DONE});
    parentPort.postMessage({ id: task.id, error: failure });
  }
});
`;
}
