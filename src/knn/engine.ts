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
 * - Arithmetic: each pair is summed over dimensions in order in float64 (direct differences for L2, never the
 *   ||x||² + ||y||² − 2x·y expansion, so a point's distance to itself is exactly 0); the value is rounded to float32
 *   only when reported. Ranking uses the float64 value.
 * - Ties (equal float64 values): the lower stored index (insertion order) ranks first.
 * - Fewer than k stored points: the missing tail of a row is index -1 with distance +Infinity (L2) or -Infinity
 *   (INNER_PRODUCT, COSINE); faiss pads with ±FLT_MAX instead.
 *
 * Speed: queries and stored points are processed in blocks (the stored block sized to stay in cache), four queries
 * at a time against each stored point, and each pair is compared at once with that query's current k-th best, so no
 * query × stored distance matrix is ever built. Top-k keeps a sorted insertion buffer for small k and a bounded
 * max-heap for large k.
 */

export type IndexMetric = 'L2' | 'INNER_PRODUCT' | 'COSINE';

export interface SearchResult {
  /** queryCount × k, row-major, best first. */
  distances: Float32Array;
  /** queryCount × k stored-point indices (insertion order), -1 where fewer than k points exist. */
  indices: Int32Array;
}

const QUERY_BLOCK = 64;
// Stored points per block: about 64 KiB of float32 rows, measured best at dim 16 and dim 128.
const STORED_BLOCK_BYTES = 64 * 1024;
// Above this k a heap beats shifting a sorted buffer (O(log k) vs O(k) per accepted candidate).
const MAX_INSERTION_BUFFER_K = 32;

export class ExactIndex {
  readonly dim: number;
  readonly metric: IndexMetric;
  private storage: Float32Array;
  private count = 0;

  constructor(dim: number, metric: IndexMetric) {
    if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
    if (metric !== 'L2' && metric !== 'INNER_PRODUCT' && metric !== 'COSINE') {
      throw new RangeError(`metric must be L2, INNER_PRODUCT or COSINE, got ${String(metric)}`);
    }
    this.dim = dim;
    this.metric = metric;
    this.storage = new Float32Array(0);
  }

  get size(): number {
    return this.count;
  }

  /** Appends `count` row-major vectors (copied; normalised first for COSINE). */
  add(points: Float32Array, count: number): void {
    checkRows(points, count, this.dim, 'points');
    const needed = (this.count + count) * this.dim;
    if (needed > this.storage.length) {
      const grown = new Float32Array(Math.max(needed, this.storage.length * 2));
      grown.set(this.storage.subarray(0, this.count * this.dim));
      this.storage = grown;
    }
    const target = this.storage.subarray(this.count * this.dim, needed);
    target.set(points.subarray(0, count * this.dim));
    if (this.metric === 'COSINE') normaliseRows(target, count, this.dim);
    this.count += count;
  }

  search(queries: Float32Array, queryCount: number, k: number): SearchResult {
    checkRows(queries, queryCount, this.dim, 'queries');
    if (!Number.isInteger(k) || k <= 0) throw new RangeError(`k must be a positive integer, got ${k}`);
    let queryRows = queries.subarray(0, queryCount * this.dim);
    if (this.metric === 'COSINE') {
      queryRows = Float32Array.from(queryRows);
      normaliseRows(queryRows, queryCount, this.dim);
    }
    const isSimilarity = this.metric !== 'L2';
    const distances = new Float32Array(queryCount * k);
    const indices = new Int32Array(queryCount * k);
    const topK = new TopK(Math.min(QUERY_BLOCK, queryCount), k);
    const storedBlock = Math.max(16, Math.floor(STORED_BLOCK_BYTES / (4 * this.dim)));
    const stored = this.storage;

    for (let firstQuery = 0; firstQuery < queryCount; firstQuery += QUERY_BLOCK) {
      const blockQueries = Math.min(QUERY_BLOCK, queryCount - firstQuery);
      topK.reset(blockQueries);
      for (let firstStored = 0; firstStored < this.count; firstStored += storedBlock) {
        const endStored = Math.min(this.count, firstStored + storedBlock);
        if (isSimilarity) {
          scanInnerProduct(topK, queryRows, firstQuery, blockQueries, stored, firstStored, endStored, this.dim);
        } else {
          scanSquaredL2(topK, queryRows, firstQuery, blockQueries, stored, firstStored, endStored, this.dim);
        }
      }
      topK.writeSorted(distances, indices, firstQuery * k, blockQueries, isSimilarity);
    }
    return { distances, indices };
  }
}

function checkRows(rows: Float32Array, count: number, dim: number, what: string): void {
  if (!(rows instanceof Float32Array)) throw new TypeError(`${what} must be a Float32Array`);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`${what} count must be a non-negative integer, got ${count}`);
  if (rows.length !== count * dim) {
    throw new RangeError(`${what} has ${rows.length} values, expected ${count} × ${dim} = ${count * dim}`);
  }
}

/** In-place L2 normalisation of each row, as faiss.normalize_L2 does before a cosine search. */
export function normaliseRows(rows: Float32Array, count: number, dim: number): void {
  for (let row = 0; row < count; row++) {
    const start = row * dim;
    let squaredNorm = 0;
    for (let d = 0; d < dim; d++) squaredNorm += rows[start + d] * rows[start + d];
    if (squaredNorm === 0) continue;
    const inverseNorm = 1 / Math.sqrt(squaredNorm);
    for (let d = 0; d < dim; d++) rows[start + d] = rows[start + d] * inverseNorm;
  }
}

/**
 * The k best (smallest key) candidates of each query in a block; similarity searches store the negated score as key.
 * Candidates of one query must be offered in increasing stored index, so a strict `<` keeps the lower index on ties.
 */
class TopK {
  private readonly keys: Float64Array;
  private readonly ids: Int32Array;
  private readonly useHeap: boolean;

  constructor(
    capacityQueries: number,
    private readonly k: number,
  ) {
    this.keys = new Float64Array(capacityQueries * k);
    this.ids = new Int32Array(capacityQueries * k);
    this.useHeap = k > MAX_INSERTION_BUFFER_K;
  }

  reset(queries: number): void {
    this.keys.fill(Infinity, 0, queries * this.k);
    this.ids.fill(-1, 0, queries * this.k);
  }

  /** The key a candidate of this block-local query must beat (strictly) to enter. */
  worst(query: number): number {
    const base = query * this.k;
    return this.useHeap ? this.keys[base] : this.keys[base + this.k - 1];
  }

  /** Inserts a candidate that beats `worst(query)`; returns the new worst. */
  insert(query: number, key: number, id: number): number {
    const k = this.k;
    const base = query * k;
    const keys = this.keys;
    const ids = this.ids;
    if (!this.useHeap) {
      let slot = k - 1;
      while (slot > 0 && keys[base + slot - 1] > key) {
        keys[base + slot] = keys[base + slot - 1];
        ids[base + slot] = ids[base + slot - 1];
        slot--;
      }
      keys[base + slot] = key;
      ids[base + slot] = id;
      return keys[base + k - 1];
    }
    // Max-heap on (key, id): replace the root and sift down; a larger id is worse on equal keys.
    let parent = 0;
    for (;;) {
      const left = 2 * parent + 1;
      if (left >= k) break;
      let child = left;
      const right = left + 1;
      if (right < k && isWorse(keys[base + right], ids[base + right], keys[base + left], ids[base + left])) child = right;
      if (!isWorse(keys[base + child], ids[base + child], key, id)) break;
      keys[base + parent] = keys[base + child];
      ids[base + parent] = ids[base + child];
      parent = child;
    }
    keys[base + parent] = key;
    ids[base + parent] = id;
    return keys[base];
  }

  /** Writes each query's candidates best first; empty slots become index -1 and the worst possible distance. */
  writeSorted(distances: Float32Array, indices: Int32Array, offset: number, queries: number, isSimilarity: boolean): void {
    const k = this.k;
    const order = new Int32Array(k);
    for (let query = 0; query < queries; query++) {
      const base = query * k;
      for (let i = 0; i < k; i++) order[i] = i;
      if (this.useHeap) {
        const keys = this.keys;
        const ids = this.ids;
        order.sort((a, b) => compareCandidates(keys[base + a], ids[base + a], keys[base + b], ids[base + b]));
      }
      for (let i = 0; i < k; i++) {
        const id = this.ids[base + order[i]];
        const key = this.keys[base + order[i]];
        indices[offset + base + i] = id;
        if (id < 0) distances[offset + base + i] = isSimilarity ? -Infinity : Infinity;
        else distances[offset + base + i] = isSimilarity ? -key : key;
      }
    }
  }
}

function isWorse(keyA: number, idA: number, keyB: number, idB: number): boolean {
  return keyA > keyB || (keyA === keyB && idA > idB);
}

function compareCandidates(keyA: number, idA: number, keyB: number, idB: number): number {
  if (idA < 0 || idB < 0) return idA < 0 ? (idB < 0 ? 0 : 1) : -1;
  return keyA < keyB ? -1 : keyA > keyB ? 1 : idA - idB;
}

// The two scan kernels below are written out (four queries against one stored row, dimensions unrolled by four)
// because this is the hot loop; each pair's sum still runs over dimensions in order, so results equal a naive loop.

function scanSquaredL2(
  topK: TopK,
  queries: Float32Array,
  firstQuery: number,
  blockQueries: number,
  stored: Float32Array,
  firstStored: number,
  endStored: number,
  dim: number,
): void {
  const unrolledDim = dim - (dim % 4);
  let local = 0;
  for (; local + 4 <= blockQueries; local += 4) {
    const q0 = (firstQuery + local) * dim;
    const q1 = q0 + dim;
    const q2 = q1 + dim;
    const q3 = q2 + dim;
    let worst0 = topK.worst(local);
    let worst1 = topK.worst(local + 1);
    let worst2 = topK.worst(local + 2);
    let worst3 = topK.worst(local + 3);
    for (let id = firstStored; id < endStored; id++) {
      const row = id * dim;
      let sum0 = 0;
      let sum1 = 0;
      let sum2 = 0;
      let sum3 = 0;
      let d = 0;
      for (; d < unrolledDim; d += 4) {
        let value = stored[row + d];
        let diff = value - queries[q0 + d];
        sum0 += diff * diff;
        diff = value - queries[q1 + d];
        sum1 += diff * diff;
        diff = value - queries[q2 + d];
        sum2 += diff * diff;
        diff = value - queries[q3 + d];
        sum3 += diff * diff;
        value = stored[row + d + 1];
        diff = value - queries[q0 + d + 1];
        sum0 += diff * diff;
        diff = value - queries[q1 + d + 1];
        sum1 += diff * diff;
        diff = value - queries[q2 + d + 1];
        sum2 += diff * diff;
        diff = value - queries[q3 + d + 1];
        sum3 += diff * diff;
        value = stored[row + d + 2];
        diff = value - queries[q0 + d + 2];
        sum0 += diff * diff;
        diff = value - queries[q1 + d + 2];
        sum1 += diff * diff;
        diff = value - queries[q2 + d + 2];
        sum2 += diff * diff;
        diff = value - queries[q3 + d + 2];
        sum3 += diff * diff;
        value = stored[row + d + 3];
        diff = value - queries[q0 + d + 3];
        sum0 += diff * diff;
        diff = value - queries[q1 + d + 3];
        sum1 += diff * diff;
        diff = value - queries[q2 + d + 3];
        sum2 += diff * diff;
        diff = value - queries[q3 + d + 3];
        sum3 += diff * diff;
      }
      for (; d < dim; d++) {
        const value = stored[row + d];
        let diff = value - queries[q0 + d];
        sum0 += diff * diff;
        diff = value - queries[q1 + d];
        sum1 += diff * diff;
        diff = value - queries[q2 + d];
        sum2 += diff * diff;
        diff = value - queries[q3 + d];
        sum3 += diff * diff;
      }
      if (sum0 < worst0) worst0 = topK.insert(local, sum0, id);
      if (sum1 < worst1) worst1 = topK.insert(local + 1, sum1, id);
      if (sum2 < worst2) worst2 = topK.insert(local + 2, sum2, id);
      if (sum3 < worst3) worst3 = topK.insert(local + 3, sum3, id);
    }
  }
  for (; local < blockQueries; local++) {
    const q = (firstQuery + local) * dim;
    let worst = topK.worst(local);
    for (let id = firstStored; id < endStored; id++) {
      const row = id * dim;
      let sum = 0;
      for (let d = 0; d < dim; d++) {
        const diff = stored[row + d] - queries[q + d];
        sum += diff * diff;
      }
      if (sum < worst) worst = topK.insert(local, sum, id);
    }
  }
}

function scanInnerProduct(
  topK: TopK,
  queries: Float32Array,
  firstQuery: number,
  blockQueries: number,
  stored: Float32Array,
  firstStored: number,
  endStored: number,
  dim: number,
): void {
  const unrolledDim = dim - (dim % 4);
  let local = 0;
  for (; local + 4 <= blockQueries; local += 4) {
    const q0 = (firstQuery + local) * dim;
    const q1 = q0 + dim;
    const q2 = q1 + dim;
    const q3 = q2 + dim;
    let worst0 = topK.worst(local);
    let worst1 = topK.worst(local + 1);
    let worst2 = topK.worst(local + 2);
    let worst3 = topK.worst(local + 3);
    for (let id = firstStored; id < endStored; id++) {
      const row = id * dim;
      let dot0 = 0;
      let dot1 = 0;
      let dot2 = 0;
      let dot3 = 0;
      let d = 0;
      for (; d < unrolledDim; d += 4) {
        let value = stored[row + d];
        dot0 += value * queries[q0 + d];
        dot1 += value * queries[q1 + d];
        dot2 += value * queries[q2 + d];
        dot3 += value * queries[q3 + d];
        value = stored[row + d + 1];
        dot0 += value * queries[q0 + d + 1];
        dot1 += value * queries[q1 + d + 1];
        dot2 += value * queries[q2 + d + 1];
        dot3 += value * queries[q3 + d + 1];
        value = stored[row + d + 2];
        dot0 += value * queries[q0 + d + 2];
        dot1 += value * queries[q1 + d + 2];
        dot2 += value * queries[q2 + d + 2];
        dot3 += value * queries[q3 + d + 2];
        value = stored[row + d + 3];
        dot0 += value * queries[q0 + d + 3];
        dot1 += value * queries[q1 + d + 3];
        dot2 += value * queries[q2 + d + 3];
        dot3 += value * queries[q3 + d + 3];
      }
      for (; d < dim; d++) {
        const value = stored[row + d];
        dot0 += value * queries[q0 + d];
        dot1 += value * queries[q1 + d];
        dot2 += value * queries[q2 + d];
        dot3 += value * queries[q3 + d];
      }
      // Keys are negated scores so that "smaller is better" holds for every metric.
      if (-dot0 < worst0) worst0 = topK.insert(local, -dot0, id);
      if (-dot1 < worst1) worst1 = topK.insert(local + 1, -dot1, id);
      if (-dot2 < worst2) worst2 = topK.insert(local + 2, -dot2, id);
      if (-dot3 < worst3) worst3 = topK.insert(local + 3, -dot3, id);
    }
  }
  for (; local < blockQueries; local++) {
    const q = (firstQuery + local) * dim;
    let worst = topK.worst(local);
    for (let id = firstStored; id < endStored; id++) {
      const row = id * dim;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += stored[row + d] * queries[q + d];
      if (-dot < worst) worst = topK.insert(local, -dot, id);
    }
  }
}
