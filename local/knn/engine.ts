/**
 * Exact (brute-force) k-nearest-neighbour index over float32 vectors — the local stand-in for a FAISS index.
 *
 * The local engine answers every index type (`faiss.Flat`, `faiss.IVFFlat`, `faiss.IVFPQ`) with this exact search:
 * approximate indexes on AWS can only return the same neighbours or worse ones, so local results are a superset
 * in quality, not a bit-for-bit copy of what an IVF/PQ index would return.
 *
 * Semantics:
 * - `L2`: distance = squared Euclidean distance (what faiss `IndexFlatL2` reports), ascending.
 * - `INNER_PRODUCT`: distance = inner product (what faiss `IndexFlatIP` reports), descending.
 * - `COSINE`: stored and query vectors are L2-normalised first (a zero vector stays zero, as `faiss.normalize_L2`
 *   leaves it), then ranked like `INNER_PRODUCT`; distance = cosine similarity, descending.
 * - Arithmetic is float32 like faiss, but every reported value is summed over dimensions in order from direct
 *   differences (never the ||x||² + ||y||² − 2x·y expansion), so a point's distance to itself is exactly 0 and every
 *   value equals the plain loop `sum = fround(sum + fround((x − q)²))` (or `fround(x · q)` for inner products).
 * - Ties (equal values): the lower stored index (insertion order) ranks first.
 * - Fewer than k stored points: the missing tail of a row is index -1 with distance +Infinity (L2) or -Infinity
 *   (INNER_PRODUCT, COSINE); faiss pads with ±FLT_MAX instead.
 * These hold whichever path computes them: L2 finds candidates with the faster expansion and then re-ranks them
 * exactly, proving with a rounding-error bound that nothing was missed (else the query is searched directly), see
 * searchCore.ts; the thread count never changes a result.
 *
 * Speed: queries (blocks of 128) and stored points (cache-sized blocks) meet in WebAssembly SIMD kernels
 * (simdKernels.ts) that accumulate 4 queries × 8 points in registers and report only tile rows holding a key
 * better than the query's current k-th best, so no query × stored matrix ever exists. The stored points live once,
 * in float32, in a shared WebAssembly memory (plus one float32 norm per point for L2).
 * Threads: `search` stays synchronous (predict.ts and train.ts call it) and hands any batch worth more than ~2 ms to
 * the worker pool (searchWorkers.ts, one worker per core), blocking this thread in Atomics.wait until they finish;
 * `searchParallel` does the same asynchronously, so a server's event loop keeps running meanwhile.
 * Numbers: `npm run bench` (bench/run.ts).
 */

import { SearchCore, type SearchPlan } from './searchCore';
import { runParallelSearch, runParallelSearchSync, searchWorkerCount } from './searchWorkers';
import {
  createKernelMemory,
  createKernels,
  HIT_RECORD_BYTES,
  type KernelMemory,
  MAX_WASM_PAGES,
  POINTS_PER_GROUP,
  QUERIES_PER_GROUP,
  type SimdKernels,
  WASM_PAGE_BYTES,
} from './simdKernels';

import type { IndexMetric } from './hyperparameters';

export type { IndexMetric } from './hyperparameters';

export interface SearchResult {
  /** queryCount × k, row-major, best first. */
  distances: Float32Array;
  /** queryCount × k stored-point indices (insertion order), -1 where fewer than k points exist. */
  indices: Int32Array;
}

export interface SearchOptions {
  /**
   * Threads to search with. 1: this thread only. n > 1: up to n worker threads (capped at the pool size, the cores
   * available). Default: the worker pool when the batch is large enough to gain from it, else this thread.
   */
  threads?: number;
}

const QUERY_BLOCK = 128;
// Stored points per block: at most 1024 and at most ~256 KiB of vectors, so the block stays in L2 cache while every
// query group of a call streams over it.
const MAX_STORED_BLOCK_POINTS = 1024;
const STORED_BLOCK_BYTES = 256 * 1024;
// Hit records per searcher (48 bytes each): bounds the scratch; a kernel call covers as many queries as fit.
const HIT_CAPACITY = 2048;
// Expanded-L2 candidates beyond k: the margin that lets the error bound settle almost every query.
const EXTRA_CANDIDATES = 8;
// Below this many multiply-adds (queries × points × dim, ~2 ms on one core) a search stays on this thread: handing it
// to the workers (about 0.2 ms) would gain too little.
const PARALLEL_MIN_WORK = 2 ** 24;
// Keys above this could overflow float32 in the expansion (and 2q must stay finite): such searches go direct.
const MAX_EXPANDED_SQUARED_NORM = 1e30;
const MAX_MEMORY_BYTES = MAX_WASM_PAGES * WASM_PAGE_BYTES - WASM_PAGE_BYTES;
// Scratch regions start on a cache line.
const SCRATCH_ALIGN = 64;

export class ExactIndex {
  readonly dim: number;
  readonly metric: IndexMetric;
  private count = 0;
  /** Shared memory: the stored points in groups (see simdKernels.ts), then per search the searchers' scratch. */
  private readonly memory: KernelMemory;
  private readonly kernels: SimdKernels;
  /** Bytes per group of 8 stored points; L2 groups start with a bias row holding the points' ‖x‖². */
  private readonly groupBytes: number;
  private readonly biasBytes: number;
  /** Upper bound of the stored points' ‖x‖² (L2; NaN once a non-finite value is stored). */
  private maxSquaredNorm = 0;
  /** Searches holding scratch memory; while a searchParallel runs, add() must wait (the stored region may not move). */
  private activeSearches = 0;
  private scratchTop = 0;

  constructor(dim: number, metric: IndexMetric) {
    if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
    if (metric !== 'L2' && metric !== 'INNER_PRODUCT' && metric !== 'COSINE') {
      throw new RangeError(`metric must be L2, INNER_PRODUCT or COSINE, got ${String(metric)}`);
    }
    this.dim = dim;
    this.metric = metric;
    this.biasBytes = metric === 'L2' ? 4 * POINTS_PER_GROUP : 0;
    this.groupBytes = this.biasBytes + 4 * POINTS_PER_GROUP * dim;
    this.memory = createKernelMemory();
    this.kernels = createKernels(this.memory);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes of memory the index holds: the stored points in the kernels' layout, their norms and search scratch. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Appends `count` row-major vectors (copied into the kernels' layout; normalised first for COSINE). */
  add(points: Float32Array, count: number): void {
    checkRows(points, count, this.dim, 'points');
    if (this.activeSearches > 0) {
      throw new Error('ExactIndex.add: a searchParallel on this index is still running; await it before adding points');
    }
    let rows = points.subarray(0, count * this.dim);
    if (this.metric === 'COSINE') {
      rows = Float32Array.from(rows);
      normaliseRows(rows, count, this.dim);
    }
    const endGroups = Math.ceil((this.count + count) / POINTS_PER_GROUP);
    this.reserve(endGroups * this.groupBytes, true);
    const floats = new Float32Array(this.memory.buffer);
    const rowsMax = writeGroups(
      floats,
      rows,
      this.count,
      count,
      endGroups * POINTS_PER_GROUP,
      this.dim,
      this.groupBytes / 4,
      this.biasBytes / 4,
    );
    // NaN (a non-finite value) sticks and disables the expansion.
    this.maxSquaredNorm =
      Number.isNaN(rowsMax) || Number.isNaN(this.maxSquaredNorm) ? NaN : Math.max(this.maxSquaredNorm, rowsMax);
    this.count += count;
  }

  /** The k nearest stored points of each query; blocks this thread until done (see SearchOptions for threads). */
  search(queries: Float32Array, queryCount: number, k: number, options: SearchOptions = {}): SearchResult {
    checkSearch(queries, queryCount, this.dim, k);
    const threads = this.threadsFor(queryCount, options.threads);
    const queryRows = this.queryRows(queries, queryCount, threads > 1);
    if (threads <= 1 || queryCount === 0) return this.searchHere(queryRows, queryCount, k);
    const { job, release } = this.parallelJob(queryRows, queryCount, k, threads);
    try {
      return runParallelSearchSync(job);
    } finally {
      release();
    }
  }

  /**
   * Like search, on worker threads, leaving this thread's event loop free meanwhile; by default on the whole pool
   * whatever the batch size. Results are identical to search. Do not add() until it settles.
   */
  async searchParallel(
    queries: Float32Array,
    queryCount: number,
    k: number,
    options: SearchOptions = {},
  ): Promise<SearchResult> {
    checkSearch(queries, queryCount, this.dim, k);
    const threads = options.threads === undefined ? searchWorkerCount() : this.threadsFor(queryCount, options.threads);
    const queryRows = this.queryRows(queries, queryCount, threads > 1);
    if (threads <= 1 || queryCount === 0) return this.searchHere(queryRows, queryCount, k);
    const { job, release } = this.parallelJob(queryRows, queryCount, k, threads);
    try {
      return await runParallelSearch(job);
    } finally {
      release();
    }
  }

  private searchHere(queryRows: Float32Array, queryCount: number, k: number): SearchResult {
    const distances = new Float32Array(queryCount * k);
    const indices = new Int32Array(queryCount * k);
    const queryBlock = Math.min(QUERY_BLOCK, roundUp(Math.max(queryCount, 1), QUERIES_PER_GROUP));
    const template = this.plan(k, queryBlock, 0);
    const scratchPtr = this.acquireScratch(SearchCore.scratchBytes(template));
    try {
      const core = new SearchCore(this.kernels, this.memory.buffer, { ...template, scratchPtr }, null, 0);
      core.search(queryRows, 0, queryCount, distances, indices);
    } finally {
      this.releaseScratch();
    }
    return { distances, indices };
  }

  private parallelJob(queryRows: Float32Array, queryCount: number, k: number, threads: number) {
    // Enough chunks per worker that a busier core does less of the work; a chunk is a whole number of query groups.
    const chunkQueries = Math.min(QUERY_BLOCK, roundUp(Math.ceil(queryCount / (threads * 8)), QUERIES_PER_GROUP));
    const template = this.plan(k, chunkQueries, 0);
    const scratchBytes = roundUp(SearchCore.scratchBytes(template), SCRATCH_ALIGN);
    const firstScratch = this.acquireScratch(scratchBytes * threads);
    const plans = Array.from({ length: threads }, (_, worker) => ({
      ...template,
      scratchPtr: firstScratch + worker * scratchBytes,
    }));
    return {
      job: { memory: this.memory, plans, queries: queryRows, queryCount, chunkQueries },
      release: () => this.releaseScratch(),
    };
  }

  private plan(k: number, queryBlock: number, scratchPtr: number): SearchPlan {
    const maxBlockGroups = Math.max(
      1,
      Math.floor(Math.min(MAX_STORED_BLOCK_POINTS / POINTS_PER_GROUP, STORED_BLOCK_BYTES / this.groupBytes)),
    );
    const expandedL2 = this.metric === 'L2' && this.maxSquaredNorm <= MAX_EXPANDED_SQUARED_NORM;
    // Top-k buffers never need more entries than there are stored points, whatever k asks for.
    const storedOrOne = Math.max(1, this.count);
    const kept = Math.min(k, storedOrOne);
    return {
      dim: this.dim,
      similarity: this.metric !== 'L2',
      expandedL2,
      k,
      kept,
      candidates: expandedL2 ? Math.min(k + EXTRA_CANDIDATES + (k >> 2), storedOrOne) : kept,
      storedCount: this.count,
      storedPtr: this.biasBytes,
      groupBytes: this.groupBytes,
      maxStoredSquaredNorm: this.maxSquaredNorm,
      scratchPtr,
      queryBlock,
      maxBlockGroups,
      hitCapacity: Math.max(HIT_CAPACITY, QUERIES_PER_GROUP * maxBlockGroups),
      pointsPerGroup: POINTS_PER_GROUP,
      queriesPerGroup: QUERIES_PER_GROUP,
      hitRecordBytes: HIT_RECORD_BYTES,
    };
  }

  private threadsFor(queryCount: number, requested: number | undefined): number {
    const available = searchWorkerCount();
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < 1)
        throw new RangeError(`threads must be a positive integer, got ${requested}`);
      return Math.min(requested, available);
    }
    const work = queryCount * this.count * this.dim;
    return work >= PARALLEL_MIN_WORK && queryCount >= 2 * QUERIES_PER_GROUP ? available : 1;
  }

  /** The rows to search: the caller's, or a copy (normalised for COSINE; in shared memory for workers). */
  private queryRows(queries: Float32Array, queryCount: number, forWorkers: boolean): Float32Array {
    const rows = queries.subarray(0, queryCount * this.dim);
    if (this.metric !== 'COSINE' && !forWorkers) return rows;
    const copy = forWorkers ? new Float32Array(new SharedArrayBuffer(4 * rows.length)) : new Float32Array(rows.length);
    copy.set(rows);
    if (this.metric === 'COSINE') normaliseRows(copy, queryCount, this.dim);
    return copy;
  }

  /** Scratch for one search after the stored points; returns its address. Pair with releaseScratch. */
  private acquireScratch(bytes: number): number {
    if (this.activeSearches === 0)
      this.scratchTop = roundUp(Math.ceil(this.count / POINTS_PER_GROUP) * this.groupBytes, SCRATCH_ALIGN);
    const address = this.scratchTop;
    this.reserve(address + bytes, false);
    this.scratchTop = roundUp(address + bytes, SCRATCH_ALIGN);
    this.activeSearches++;
    return address;
  }

  private releaseScratch(): void {
    this.activeSearches--;
  }

  /** Grows the kernels' memory to at least `bytes` (by half again at least when `amortised`, for repeated adds). */
  private reserve(bytes: number, amortised: boolean): void {
    if (bytes > MAX_MEMORY_BYTES) {
      throw new RangeError(`the index needs ${bytes} bytes of memory; the local engine is limited to 4 GiB`);
    }
    const current = this.memory.buffer.byteLength;
    if (bytes <= current) return;
    const target = amortised ? Math.min(MAX_MEMORY_BYTES, Math.max(bytes, Math.floor(current * 1.5))) : bytes;
    this.memory.grow(Math.ceil((target - current) / WASM_PAGE_BYTES));
  }
}

/**
 * Writes `rowCount` row-major rows into slots firstSlot … firstSlot + rowCount − 1 of the grouped layout (slot s is
 * lane s % 8 of group ⌊s / 8⌋; a group holds, for each dimension, its 8 lanes side by side) and, with a bias row,
 * each point's float32 ‖x‖² into it. Slots after the rows, up to `endSlot`, get zeros and a bias of +Infinity (so
 * the expanded L2 kernel never reports them). Returns an upper bound of the rows' ‖x‖² (NaN if a value is not finite).
 */
function writeGroups(
  floats: Float32Array,
  rows: Float32Array,
  firstSlot: number,
  rowCount: number,
  endSlot: number,
  dim: number,
  groupWords: number,
  biasWords: number,
): number {
  // A local copy: under tsx/esbuild's CommonJS interop an imported constant is a getter call in the hot loop.
  const perGroup = POINTS_PER_GROUP;
  let maxSquaredNorm = 0;
  for (let slot = firstSlot; slot < endSlot; slot++) {
    const groupAt = Math.floor(slot / perGroup) * groupWords;
    const lane = slot % perGroup;
    const row = slot - firstSlot;
    let target = groupAt + biasWords + lane;
    if (row >= rowCount) {
      for (let d = 0; d < dim; d++, target += perGroup) floats[target] = 0;
      if (biasWords > 0) floats[groupAt + lane] = Infinity;
      continue;
    }
    let squaredNorm32 = 0;
    let squaredNorm64 = 0;
    for (let d = 0, source = row * dim; d < dim; d++, target += perGroup) {
      const value = rows[source + d];
      floats[target] = value;
      squaredNorm32 = Math.fround(squaredNorm32 + Math.fround(value * value));
      squaredNorm64 += value * value;
    }
    if (biasWords > 0) floats[groupAt + lane] = squaredNorm32;
    // Upper bound with a margin for float64 rounding; NaN compares false, so track it explicitly.
    const bound = squaredNorm64 * (1 + 2 ** -40);
    if (!(bound <= maxSquaredNorm))
      maxSquaredNorm = Number.isNaN(maxSquaredNorm) ? NaN : Number.isNaN(bound) ? NaN : bound;
  }
  return maxSquaredNorm;
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

function checkSearch(queries: Float32Array, queryCount: number, dim: number, k: number): void {
  checkRows(queries, queryCount, dim, 'queries');
  if (!Number.isInteger(k) || k <= 0) throw new RangeError(`k must be a positive integer, got ${k}`);
}

function checkRows(rows: Float32Array, count: number, dim: number, what: string): void {
  if (!(rows instanceof Float32Array)) throw new TypeError(`${what} must be a Float32Array`);
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`${what} count must be a non-negative integer, got ${count}`);
  if (rows.length !== count * dim) {
    throw new RangeError(`${what} has ${rows.length} values, expected ${count} × ${dim} = ${count * dim}`);
  }
}

/** In-place L2 normalisation of each row, as faiss.normalize_L2 does before a cosine search. */
function normaliseRows(rows: Float32Array, count: number, dim: number): void {
  for (let row = 0; row < count; row++) {
    const start = row * dim;
    let squaredNorm = 0;
    for (let d = 0; d < dim; d++) squaredNorm += rows[start + d] * rows[start + d];
    if (squaredNorm === 0) continue;
    const inverseNorm = 1 / Math.sqrt(squaredNorm);
    for (let d = 0; d < dim; d++) rows[start + d] = rows[start + d] * inverseNorm;
  }
}
