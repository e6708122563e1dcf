/**
 * One run of a k-NN engine case in its own process (so peak RSS belongs to this case alone): a warm-up search on a
 * small index, then the timed build of the exact index over the stored points and the search of all queries; the
 * first run of a case also checks a sample of queries against a plain brute-force loop.
 * Spawned by run.ts with `--expose-gc`; prints one JSON line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { ExactIndex, type SearchResult } from '../local/knn/engine';
import { searchWorkerCount, startSearchWorkers, stopSearchWorkers } from '../local/knn/searchWorkers';
import { activeKernelVariant, type KernelVariant } from '../local/knn/simdKernels';

export interface EngineCaseSpec {
  trainPath: string;
  queriesPath: string;
  count: number;
  dim: number;
  queryCount: number;
  k: number;
  /**
   * The first process of a case also measures a single-thread search and checks `verifyQueries` queries (evenly
   * spaced) against the float32 reference loop, value for value.
   */
  detailed: boolean;
  verifyQueries: number;
  /** Where the search's indices (int32, queryCount × k) go, for the exactness check over all queries. */
  indicesOut: string;
}

export interface EngineCaseResult {
  threads: number;
  /** The kernel variant this runtime ran (relaxed-SIMD FMA where available). */
  kernels: KernelVariant;
  buildMs: number;
  searchMs: number;
  /** Process CPU time during the search ÷ its wall time: close to `threads` when the cores were not shared. */
  searchCoresBusy: number;
  /** One search on this thread only (threads: 1), for the per-core speed (detailed runs). */
  singleThreadSearchMs?: number;
  storedBytes: number;
  /** The index's own memory: points in the kernel layout, norms, search scratch. */
  indexMemoryBytes: number;
  rssBeforeBytes: number;
  /** Process peak RSS (high-water mark) after the build + search. */
  peakRssBytes: number;
  heapUsedBeforeBytes: number;
  heapUsedPeakBytes: number;
  verified?: { queries: number; mismatches: number };
}

function readFloats(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const collectGarbage = (): void => (globalThis as { gc?: () => void }).gc?.();

/** The k nearest by the documented contract: in-order float32 sums of direct differences, ties to the lower index. */
function bruteForceRow(train: Float32Array, count: number, dim: number, query: Float32Array, k: number) {
  const best = Array.from({ length: k }, () => ({ distance: Infinity, index: -1 }));
  for (let point = 0; point < count; point++) {
    let sum = 0;
    for (let d = 0; d < dim; d++) {
      const difference = Math.fround(train[point * dim + d] - query[d]);
      sum = Math.fround(sum + Math.fround(difference * difference));
    }
    if (!(sum < best[k - 1].distance)) continue;
    let at = k - 1;
    while (at > 0 && best[at - 1].distance > sum) {
      best[at] = best[at - 1];
      at--;
    }
    best[at] = { distance: sum, index: point };
  }
  return best;
}

function verify(
  spec: EngineCaseSpec,
  train: Float32Array,
  queries: Float32Array,
  result: SearchResult,
): { queries: number; mismatches: number } {
  let mismatches = 0;
  const step = Math.max(1, Math.floor(spec.queryCount / spec.verifyQueries));
  let checked = 0;
  for (let query = 0; query < spec.queryCount && checked < spec.verifyQueries; query += step, checked++) {
    const expected = bruteForceRow(
      train,
      spec.count,
      spec.dim,
      queries.subarray(query * spec.dim, (query + 1) * spec.dim),
      spec.k,
    );
    for (let i = 0; i < spec.k; i++) {
      const at = query * spec.k + i;
      if (result.indices[at] !== expected[i].index || result.distances[at] !== expected[i].distance) {
        mismatches++;
        break;
      }
    }
  }
  return { queries: checked, mismatches };
}

// The warm-up search: same dim and k, a small index, so the workers' search code is compiled before the timed run.
const WARM_UP_POINTS = 5000;
const WARM_UP_QUERIES = 512;

function main(): void {
  const spec = JSON.parse(process.argv[2]) as EngineCaseSpec;
  const train = readFloats(spec.trainPath);
  const queries = readFloats(spec.queriesPath);
  startSearchWorkers();
  const warmUp = new ExactIndex(spec.dim, 'L2');
  warmUp.add(train.subarray(0, WARM_UP_POINTS * spec.dim), WARM_UP_POINTS);
  warmUp.search(queries.subarray(0, WARM_UP_QUERIES * spec.dim), WARM_UP_QUERIES, spec.k, {
    threads: searchWorkerCount(),
  });
  collectGarbage();
  const rssBeforeBytes = process.memoryUsage().rss;
  const heapUsedBeforeBytes = getHeapStatistics().used_heap_size;

  const start = performance.now();
  const index = new ExactIndex(spec.dim, 'L2');
  index.add(train, spec.count);
  const built = performance.now();
  const heapUsedAfterBuild = getHeapStatistics().used_heap_size;
  const cpuBefore = process.cpuUsage();
  const result = index.search(queries, spec.queryCount, spec.k);
  const searched = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const heapUsedPeakBytes = Math.max(heapUsedBeforeBytes, heapUsedAfterBuild, getHeapStatistics().used_heap_size);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;

  const output: EngineCaseResult = {
    threads: searchWorkerCount(),
    kernels: activeKernelVariant(),
    buildMs: built - start,
    searchMs: searched - built,
    searchCoresBusy: (cpu.user + cpu.system) / 1000 / (searched - built),
    storedBytes: spec.count * spec.dim * 4,
    indexMemoryBytes: index.memoryBytes,
    rssBeforeBytes,
    peakRssBytes,
    heapUsedBeforeBytes,
    heapUsedPeakBytes,
  };
  if (spec.detailed) {
    const singleStart = performance.now();
    index.search(queries, spec.queryCount, spec.k, { threads: 1 });
    output.singleThreadSearchMs = performance.now() - singleStart;
    output.verified = verify(spec, train, queries, result);
  }
  // Every run's indices: the first is checked against brute force, the others must equal it.
  writeFileSync(spec.indicesOut, new Uint8Array(result.indices.buffer));
  process.stdout.write(`${JSON.stringify(output)}\n`);
  void stopSearchWorkers();
}

if (require.main === module) main();
