/**
 * One thread's share of an exact k-NN search: blocks of queries against all stored points through the SIMD hit
 * kernels (simdKernels.ts), top-k selection of the hits, and for L2 the exact re-rank of the candidates.
 *
 * L2 runs in two steps, because the fast way to rank and the exact value are different float32 computations:
 * 1. Candidates: the expanded key ‖x‖² − 2q·x (two float32 operations per dimension instead of three), keeping
 *    `candidates` (> k) points per query.
 * 2. Re-rank: each candidate's distance from direct differences, `fround(sum + fround(t·t))`, `t = fround(x − q)` in
 *    dimension order — the value ExactIndex promises — sorted by (distance, stored index). The k best are the exact
 *    answer when a rounding-error bound proves that no point outside the candidates can be as close as the k-th:
 *    every such point has key ≥ the worst kept key T, so its true distance is at least ‖q‖² + T − E (E bounds the
 *    expansion's rounding error, from the largest stored norm), and its direct-difference value at least that times
 *    (1 − (dim + 2)·2⁻²⁴). When the proof fails (many near-equal distances at the k-th place, huge or non-finite
 *    values) the query is searched again with the direct-difference kernel, which is exact by construction.
 * INNER_PRODUCT / COSINE keys are −(the in-order float32 dot product), already the exact reported value.
 * Candidates of a query reach the top-k buffer in increasing stored index and only a strictly better key enters, so
 * equal values keep the lower stored index.
 *
 * This class is also the worker threads' code: searchWorkers.ts puts `SearchCore.toString()` into the worker source.
 * So it must stay self-contained — no run-time imports, no module-level constants or helpers, no named inner
 * functions (bundlers' keepNames would wrap them in a helper the worker does not have).
 */
import type { HitKernel } from './simdKernels';

export interface SearchKernelSet {
  expandedL2HitTile: HitKernel;
  negatedInnerProductHitTile: HitKernel;
  squaredL2HitTile: HitKernel;
}

/**
 * Everything a searcher needs to know about the index, the search and its scratch memory (plain data: it is posted to
 * workers).
 */
export interface SearchPlan {
  dim: number;
  /** Rank by inner product (INNER_PRODUCT, COSINE with normalised vectors) rather than by L2 distance. */
  similarity: boolean;
  /** L2 only: candidates by the expanded key, then exact re-rank (false: every query by direct differences). */
  expandedL2: boolean;
  /** Neighbours per query in the output (rows are padded past the stored count). */
  k: number;
  /** Top-k entries kept per query by an exact scan: min(k, stored count), at least 1. */
  kept: number;
  /** Candidates kept per query before the exact re-rank (expanded L2): more than k, at most the stored count. */
  candidates: number;
  storedCount: number;
  /** Byte address of dimension 0 of stored group 0. */
  storedPtr: number;
  /** Bytes from one stored group to the next (a bias row included). */
  groupBytes: number;
  /** An upper bound of every stored point's ‖x‖² (float64). */
  maxStoredSquaredNorm: number;
  /** This searcher's scratch region (SearchCore.scratchBytes bytes, 16-byte aligned). */
  scratchPtr: number;
  /** Queries per block, a multiple of queriesPerGroup. */
  queryBlock: number;
  /** Stored groups per kernel call once the first thresholds are set (a cache-sized block). */
  maxBlockGroups: number;
  /** Hit records the scratch holds; at least queriesPerGroup · maxBlockGroups. */
  hitCapacity: number;
  pointsPerGroup: number;
  queriesPerGroup: number;
  hitRecordBytes: number;
}

export class SearchCore {
  // `declare` fields emit no class-field code, which keeps the serialised class free of transpiler helpers.
  declare private readonly kernels: SearchKernelSet;
  declare private readonly plan: SearchPlan;
  declare private readonly floats: Float32Array;
  declare private readonly ints: Int32Array;
  declare private readonly progress: Int32Array | null;
  declare private readonly progressIndex: number;
  /** Output row of each query slot of the current block. */
  declare private readonly rowOfSlot: Int32Array;
  /** Top-k state: `slots` (key, stored index) per query slot; a sorted buffer, or a max-heap when slots > 32. */
  declare private readonly keys: Float64Array;
  declare private readonly ids: Int32Array;
  declare private slots: number;
  declare private useHeap: boolean;
  /** Re-rank scratch: the exact distances and stored indices of one query's candidates, and their order. */
  declare private readonly exact: Float64Array;
  declare private readonly candidateIds: Int32Array;
  declare private readonly order: Int32Array;

  /** Bytes of scratch memory one searcher needs: the query block, its thresholds, the hit records. */
  static scratchBytes(plan: SearchPlan): number {
    return plan.queryBlock * (plan.dim + 1) * 4 + plan.hitCapacity * plan.hitRecordBytes;
  }

  constructor(
    kernels: SearchKernelSet,
    buffer: ArrayBufferLike,
    plan: SearchPlan,
    progress: Int32Array | null,
    progressIndex: number,
  ) {
    this.kernels = kernels;
    this.plan = plan;
    this.floats = new Float32Array(buffer);
    this.ints = new Int32Array(buffer);
    this.progress = progress;
    this.progressIndex = progressIndex;
    this.rowOfSlot = new Int32Array(plan.queryBlock);
    const maxSlots = Math.max(plan.kept, plan.candidates);
    this.keys = new Float64Array(plan.queryBlock * maxSlots);
    this.ids = new Int32Array(plan.queryBlock * maxSlots);
    this.slots = plan.kept;
    this.useHeap = false;
    this.exact = new Float64Array(maxSlots);
    this.candidateIds = new Int32Array(maxSlots);
    this.order = new Int32Array(maxSlots);
  }

  /** Answers queries first … first + count − 1 (row-major in `queries`) into their rows of `distances` / `indices`. */
  search(queries: Float32Array, first: number, count: number, distances: Float32Array, indices: Int32Array): void {
    const block = this.plan.queryBlock;
    for (let start = 0; start < count; start += block) {
      const size = Math.min(block, count - start);
      for (let slot = 0; slot < size; slot++) this.rowOfSlot[slot] = first + start + slot;
      this.searchBlock(queries, size, distances, indices);
    }
  }

  private searchBlock(queries: Float32Array, size: number, distances: Float32Array, indices: Int32Array): void {
    const plan = this.plan;
    const kernels = this.kernels;
    if (plan.similarity || !plan.expandedL2) {
      this.loadQueries(queries, size, 1);
      this.scan(plan.similarity ? kernels.negatedInnerProductHitTile : kernels.squaredL2HitTile, size, plan.kept);
      this.writeSorted(distances, indices, size, plan.similarity);
      return;
    }
    this.loadQueries(queries, size, 2);
    this.scan(kernels.expandedL2HitTile, size, plan.candidates);
    // Queries the bound cannot settle move to the front of rowOfSlot (in place: fallbacks ≤ slot).
    let fallbacks = 0;
    for (let slot = 0; slot < size; slot++) {
      if (!this.rerank(queries, slot, distances, indices)) this.rowOfSlot[fallbacks++] = this.rowOfSlot[slot];
    }
    if (fallbacks === 0) return;
    this.loadQueries(queries, fallbacks, 1);
    this.scan(kernels.squaredL2HitTile, fallbacks, plan.kept);
    this.writeSorted(distances, indices, fallbacks, false);
  }

  /** Writes the rows of slots 0 … size − 1, times `scale`, into the grouped query layout; resets their thresholds. */
  private loadQueries(queries: Float32Array, size: number, scale: number): void {
    const plan = this.plan;
    const dim = plan.dim;
    const perGroup = plan.queriesPerGroup;
    const floats = this.floats;
    const queryAt = plan.scratchPtr / 4;
    const thresholdAt = queryAt + plan.queryBlock * dim;
    const slots = Math.ceil(size / perGroup) * perGroup;
    for (let slot = 0; slot < slots; slot++) {
      const target = queryAt + Math.floor(slot / perGroup) * perGroup * dim + (slot % perGroup);
      if (slot < size) {
        const source = this.rowOfSlot[slot] * dim;
        for (let d = 0; d < dim; d++) floats[target + d * perGroup] = queries[source + d] * scale;
        floats[thresholdAt + slot] = Infinity;
      } else {
        for (let d = 0; d < dim; d++) floats[target + d * perGroup] = 0;
        floats[thresholdAt + slot] = -Infinity; // padding slots never hit
      }
    }
  }

  /** Runs `kernel` for the loaded queries over every stored group, feeding the hits to the top-k buffers. */
  private scan(kernel: HitKernel, size: number, slots: number): void {
    const plan = this.plan;
    this.resetTopK(size, slots);
    const queryGroups = Math.ceil(size / plan.queriesPerGroup);
    const storedGroups = Math.ceil(plan.storedCount / plan.pointsPerGroup);
    const queryGroupBytes = plan.queriesPerGroup * plan.dim * 4;
    const queryPtr = plan.scratchPtr;
    const thresholdPtr = queryPtr + plan.queryBlock * plan.dim * 4;
    const hitPtr = thresholdPtr + plan.queryBlock * 4;
    // Small blocks first: thresholds become finite (and hits rare) once `slots` points have been seen.
    let blockGroups = Math.min(plan.maxBlockGroups, Math.max(1, Math.ceil(slots / plan.pointsPerGroup)));
    for (let firstGroup = 0; firstGroup < storedGroups;) {
      const groups = Math.min(blockGroups, storedGroups - firstGroup);
      // As many query groups per call as the hit buffer holds in the worst case (every row of every tile a hit).
      const perCall = Math.max(1, Math.floor(plan.hitCapacity / (plan.queriesPerGroup * groups)));
      const storedPtr = plan.storedPtr + firstGroup * plan.groupBytes;
      for (let queryGroup = 0; queryGroup < queryGroups; queryGroup += perCall) {
        const callGroups = Math.min(perCall, queryGroups - queryGroup);
        const end = kernel(
          queryPtr + queryGroup * queryGroupBytes,
          callGroups,
          storedPtr,
          groups,
          plan.dim,
          plan.groupBytes,
          thresholdPtr + queryGroup * plan.queriesPerGroup * 4,
          hitPtr,
        );
        this.takeHits(hitPtr, end, queryGroup * plan.queriesPerGroup, firstGroup);
      }
      firstGroup += groups;
      blockGroups = Math.min(plan.maxBlockGroups, blockGroups * 2);
      if (this.progress !== null) Atomics.add(this.progress, this.progressIndex, 1);
    }
  }

  /** Offers each hit record's keys to its query's top-k and publishes the query's new threshold for the next call. */
  private takeHits(hitPtr: number, end: number, firstSlot: number, firstGroup: number): void {
    const plan = this.plan;
    const floats = this.floats;
    const ints = this.ints;
    const recordWords = plan.hitRecordBytes / 4;
    const perGroup = plan.pointsPerGroup;
    const storedCount = plan.storedCount;
    const thresholdAt = plan.scratchPtr / 4 + plan.queryBlock * plan.dim;
    for (let at = hitPtr / 4; at < end / 4; at += recordWords) {
      const slot = firstSlot + ints[at];
      const firstId = (firstGroup + ints[at + 1]) * perGroup;
      let worst = this.worst(slot);
      for (let lane = 0; lane < perGroup; lane++) {
        const key = floats[at + 4 + lane];
        if (key < worst) {
          if (firstId + lane >= storedCount) break; // the zero padding after the last point
          worst = this.insert(slot, key, firstId + lane);
        }
      }
      floats[thresholdAt + slot] = worst;
    }
  }

  /**
   * Settles one query of an expanded-L2 scan: the candidates' exact distances, sorted, and the bound that nothing
   * outside them ranks within the k best. Writes the row and returns true, or returns false (search it directly).
   */
  private rerank(queries: Float32Array, slot: number, distances: Float32Array, indices: Int32Array): boolean {
    const plan = this.plan;
    const dim = plan.dim;
    const k = plan.k;
    const row = this.rowOfSlot[slot];
    const queryAt = row * dim;
    let squaredNorm = 0;
    for (let d = 0; d < dim; d++) squaredNorm += queries[queryAt + d] * queries[queryAt + d];
    if (!(squaredNorm <= 1e30)) return false; // 2q or the keys could overflow float32 (or the query is not finite)

    const floats = this.floats;
    const exact = this.exact;
    const candidateIds = this.candidateIds;
    const base = slot * this.slots;
    const groupWords = plan.groupBytes / 4;
    const storedAt = plan.storedPtr / 4;
    const perGroup = plan.pointsPerGroup;
    let valid = 0;
    for (let i = 0; i < this.slots; i++) {
      const id = this.ids[base + i];
      if (id < 0) continue;
      const pointAt = storedAt + Math.floor(id / perGroup) * groupWords + (id % perGroup);
      let sum = 0;
      for (let d = 0; d < dim; d++) {
        const difference = Math.fround(floats[pointAt + d * perGroup] - queries[queryAt + d]);
        sum = Math.fround(sum + Math.fround(difference * difference));
      }
      exact[valid] = sum;
      candidateIds[valid] = id;
      valid++;
    }
    // Fewer candidates than points though the buffer had room: some keys were NaN or infinite.
    if (valid < Math.min(this.slots, plan.storedCount)) return false;

    const order = this.order;
    for (let i = 0; i < valid; i++) order[i] = i;
    if (valid <= 32) {
      // Nearly sorted already (keys approximate the distances): insertion sort.
      for (let i = 1; i < valid; i++) {
        const moving = order[i];
        let j = i - 1;
        while (
          j >= 0 &&
          (exact[order[j]] > exact[moving] ||
            (exact[order[j]] === exact[moving] && candidateIds[order[j]] > candidateIds[moving]))
        ) {
          order[j + 1] = order[j];
          j--;
        }
        order[j + 1] = moving;
      }
    } else {
      order.subarray(0, valid).sort((a, b) => exact[a] - exact[b] || candidateIds[a] - candidateIds[b]);
    }

    if (valid < plan.storedCount) {
      const kth = exact[order[k - 1]];
      const worstKey = this.worst(slot);
      const maxNorm = plan.maxStoredSquaredNorm;
      const unit = 5.960464477539063e-8; // 2⁻²⁴, float32 unit roundoff
      // Twice the expansion's worst-case error, plus a float64 margin for ‖q‖².
      const keyError =
        2 * (dim + 2) * unit * (maxNorm + 2 * Math.sqrt(squaredNorm * maxNorm)) + squaredNorm * 9.094947017729282e-13;
      // 2⁻¹⁴⁹ per operation covers float32 underflow.
      const lowerBound =
        (squaredNorm + worstKey - keyError) * (1 - 2 * (dim + 3) * unit) - (4 * dim + 8) * 1.401298464324817e-45;
      if (!(lowerBound > kth)) return false;
    }
    const out = row * k;
    for (let i = 0; i < k; i++) {
      if (i < valid) {
        indices[out + i] = candidateIds[order[i]];
        distances[out + i] = exact[order[i]];
      } else {
        indices[out + i] = -1;
        distances[out + i] = Infinity;
      }
    }
    return true;
  }

  /** Writes each loaded query's top-k best first; empty slots become index −1 and the worst possible distance. */
  private writeSorted(distances: Float32Array, indices: Int32Array, size: number, similarity: boolean): void {
    const k = this.plan.k;
    const slots = this.slots;
    const keys = this.keys;
    const ids = this.ids;
    const order = this.order;
    for (let slot = 0; slot < size; slot++) {
      const base = slot * slots;
      for (let i = 0; i < slots; i++) order[i] = base + i;
      if (this.useHeap) {
        order.subarray(0, slots).sort((a, b) => {
          if (ids[a] < 0 || ids[b] < 0) return ids[a] < 0 ? (ids[b] < 0 ? 0 : 1) : -1;
          return keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : ids[a] - ids[b];
        });
      }
      const out = this.rowOfSlot[slot] * k;
      for (let i = 0; i < k; i++) {
        const id = i < slots ? ids[order[i]] : -1;
        indices[out + i] = id;
        if (id < 0) distances[out + i] = similarity ? -Infinity : Infinity;
        else distances[out + i] = similarity ? 0 - keys[order[i]] : keys[order[i]]; // 0 − key: never −0
      }
    }
  }

  private resetTopK(size: number, slots: number): void {
    this.slots = slots;
    this.useHeap = slots > 32; // above this a heap beats shifting a sorted buffer
    this.keys.fill(Infinity, 0, size * slots);
    this.ids.fill(-1, 0, size * slots);
  }

  /** The key a candidate of this query slot must beat (strictly) to enter. */
  private worst(slot: number): number {
    const base = slot * this.slots;
    return this.useHeap ? this.keys[base] : this.keys[base + this.slots - 1];
  }

  /** Inserts a candidate that beats `worst(slot)`; returns the new worst. */
  private insert(slot: number, key: number, id: number): number {
    const slots = this.slots;
    const base = slot * slots;
    const keys = this.keys;
    const ids = this.ids;
    if (!this.useHeap) {
      let at = slots - 1;
      while (at > 0 && keys[base + at - 1] > key) {
        keys[base + at] = keys[base + at - 1];
        ids[base + at] = ids[base + at - 1];
        at--;
      }
      keys[base + at] = key;
      ids[base + at] = id;
      return keys[base + slots - 1];
    }
    // Max-heap on (key, id): replace the root and sift down; a larger id is worse on equal keys.
    let parent = 0;
    for (;;) {
      const left = 2 * parent + 1;
      if (left >= slots) break;
      let child = left;
      const right = left + 1;
      if (
        right < slots &&
        (keys[base + right] > keys[base + left] ||
          (keys[base + right] === keys[base + left] && ids[base + right] > ids[base + left]))
      ) {
        child = right;
      }
      if (!(keys[base + child] > key || (keys[base + child] === key && ids[base + child] > id))) break;
      keys[base + parent] = keys[base + child];
      ids[base + parent] = ids[base + child];
      parent = child;
    }
    keys[base + parent] = key;
    ids[base + parent] = id;
    return keys[base];
  }
}
