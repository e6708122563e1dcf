import { ExactIndex, type IndexMetric } from '../../../local/knn/engine';
import { stopSearchWorkers } from '../../../local/knn/searchWorkers';
import { bestKernelVariant, useKernelVariant } from '../../../local/knn/simdKernels';
import { randomIntegerRows, randomRows } from './fixtures';

// Float32 rounding through a typed array: Math.fround is very slow inside jest's VM context.
const float32Scratch = new Float32Array(1);
function float32(value: number): number {
  float32Scratch[0] = value;
  return float32Scratch[0];
}

/** The obvious O(n·m·d) float32 search: each distance summed in dimension order, then a full sort by (score, index). */
function bruteForce(stored: Float32Array, queries: Float32Array, dim: number, metric: IndexMetric, k: number) {
  const normalise = (rows: Float32Array): Float32Array => {
    const out = Float32Array.from(rows);
    for (let r = 0; r < out.length / dim; r++) {
      let squared = 0;
      for (let d = 0; d < dim; d++) squared += out[r * dim + d] * out[r * dim + d];
      if (squared === 0) continue;
      for (let d = 0; d < dim; d++) out[r * dim + d] = out[r * dim + d] * (1 / Math.sqrt(squared));
    }
    return out;
  };
  const x = metric === 'COSINE' ? normalise(stored) : stored;
  const q = metric === 'COSINE' ? normalise(queries) : queries;
  const n = x.length / dim;
  const results: { indices: number[]; distances: number[] }[] = [];
  for (let i = 0; i < q.length / dim; i++) {
    const scored = Array.from({ length: n }, (_, j) => {
      let value = 0;
      for (let d = 0; d < dim; d++) {
        if (metric === 'L2') {
          const difference = float32(x[j * dim + d] - q[i * dim + d]);
          value = float32(value + float32(difference * difference));
        } else {
          value = float32(value + float32(x[j * dim + d] * q[i * dim + d]));
        }
      }
      return { j, value };
    });
    scored.sort((a, b) => (metric === 'L2' ? a.value - b.value : b.value - a.value) || a.j - b.j);
    const best = scored.slice(0, k);
    results.push({ indices: best.map((s) => s.j), distances: best.map((s) => s.value) });
  }
  return results;
}

function rowsOf(result: { distances: Float32Array; indices: Int32Array }, k: number) {
  const rows: { indices: number[]; distances: number[] }[] = [];
  for (let i = 0; i < result.indices.length / k; i++) {
    rows.push({
      indices: Array.from(result.indices.subarray(i * k, (i + 1) * k)),
      distances: Array.from(result.distances.subarray(i * k, (i + 1) * k)),
    });
  }
  return rows;
}

describe('ExactIndex', () => {
  const metrics: IndexMetric[] = ['L2', 'INNER_PRODUCT', 'COSINE'];

  describe.each(metrics)('%s search equals brute force', (metric) => {
    test.each([
      { dim: 7, stored: 1500, queries: 37, k: 5 },
      { dim: 16, stored: 2000, queries: 65, k: 10 },
      { dim: 3, stored: 700, queries: 9, k: 40 },
      { dim: 1, stored: 300, queries: 6, k: 1 },
      // 1024 stored points per cache block at dim 64: two blocks, the last partial; two query blocks.
      { dim: 64, stored: 1100, queries: 70, k: 3 },
      // 512 stored points per block at dim 128, 6 blocks, k in heap territory.
      { dim: 128, stored: 2600, queries: 5, k: 33 },
    ])('dim $dim, $stored stored, $queries queries, k=$k', ({ dim, stored, queries, k }) => {
      const points = randomRows(stored, dim, 11 + dim);
      const queryRows = randomRows(queries, dim, 99 + dim);
      const index = new ExactIndex(dim, metric);
      index.add(points, stored);

      expect(rowsOf(index.search(queryRows, queries, k), k)).toEqual(bruteForce(points, queryRows, dim, metric, k));
    });

    test('exact ties rank the lower stored index first (small and heap-sized k)', () => {
      const dim = 2;
      const points = randomIntegerRows(400, dim, 5, 3);
      const queryRows = randomIntegerRows(21, dim, 6, 3);
      const index = new ExactIndex(dim, metric);
      index.add(points, 400);

      for (const k of [4, 60]) {
        expect(rowsOf(index.search(queryRows, 21, k), k)).toEqual(bruteForce(points, queryRows, dim, metric, k));
      }
    });
  });

  test('L2 reports squared distances, 0 for a stored point itself', () => {
    const index = new ExactIndex(2, 'L2');
    index.add(new Float32Array([0, 0, 3, 4, 1, 1]), 3);

    const result = index.search(new Float32Array([3, 4]), 1, 3);

    expect(Array.from(result.indices)).toEqual([1, 2, 0]);
    expect(Array.from(result.distances)).toEqual([0, 13, 25]);
  });

  test('INNER_PRODUCT ranks by descending dot product; COSINE by descending cosine similarity', () => {
    const stored = new Float32Array([1, 0, 10, 10, 0, 2]);
    const query = new Float32Array([1, 0]);
    const ip = new ExactIndex(2, 'INNER_PRODUCT');
    ip.add(stored, 3);
    const cosine = new ExactIndex(2, 'COSINE');
    cosine.add(stored, 3);

    const byDot = ip.search(query, 1, 3);
    const byCosine = cosine.search(query, 1, 3);

    expect(Array.from(byDot.indices)).toEqual([1, 0, 2]);
    expect(Array.from(byDot.distances)).toEqual([10, 1, 0]);
    expect(Array.from(byCosine.indices)).toEqual([0, 1, 2]);
    expect(byCosine.distances[0]).toBeCloseTo(1, 6);
    expect(byCosine.distances[1]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(byCosine.distances[2]).toBeCloseTo(0, 6);
  });

  test('k larger than the index pads with -1 and the worst possible distance', () => {
    const l2 = new ExactIndex(1, 'L2');
    l2.add(new Float32Array([5, 1]), 2);
    const ip = new ExactIndex(1, 'INNER_PRODUCT');
    ip.add(new Float32Array([5, 1]), 2);

    const near = l2.search(new Float32Array([0]), 1, 4);
    const similar = ip.search(new Float32Array([1]), 1, 4);

    expect(Array.from(near.indices)).toEqual([1, 0, -1, -1]);
    expect(Array.from(near.distances)).toEqual([1, 25, Infinity, Infinity]);
    expect(Array.from(similar.indices)).toEqual([0, 1, -1, -1]);
    expect(Array.from(similar.distances)).toEqual([5, 1, -Infinity, -Infinity]);
  });

  test('an empty index answers with padding only', () => {
    const index = new ExactIndex(3, 'L2');
    const result = index.search(new Float32Array([1, 2, 3]), 1, 2);
    expect(Array.from(result.indices)).toEqual([-1, -1]);
    expect(index.size).toBe(0);
  });

  test('adding in several batches equals adding at once, and size counts all points', () => {
    const points = randomRows(300, 5, 1);
    const queries = randomRows(10, 5, 2);
    const once = new ExactIndex(5, 'COSINE');
    once.add(points, 300);
    const batched = new ExactIndex(5, 'COSINE');
    batched.add(points.subarray(0, 100 * 5), 100);
    batched.add(points.subarray(100 * 5, 101 * 5), 1);
    batched.add(points.subarray(101 * 5), 199);

    expect(batched.size).toBe(300);
    expect(batched.search(queries, 10, 7)).toEqual(once.search(queries, 10, 7));
  });

  test('points added after a search are found by the next search', () => {
    const points = randomRows(50, 3, 8);
    const queries = randomRows(7, 3, 9);
    const index = new ExactIndex(3, 'L2');
    index.add(points.subarray(0, 13 * 3), 13);
    expect(rowsOf(index.search(queries, 7, 4), 4)).toEqual(bruteForce(points.subarray(0, 13 * 3), queries, 3, 'L2', 4));
    index.add(points.subarray(13 * 3), 37);
    expect(rowsOf(index.search(queries, 7, 4), 4)).toEqual(bruteForce(points, queries, 3, 'L2', 4));
  });

  test('does not keep a reference to the caller’s arrays', () => {
    const points = new Float32Array([1, 1]);
    const index = new ExactIndex(2, 'L2');
    index.add(points, 1);
    points[0] = 100;
    expect(index.search(new Float32Array([1, 1]), 1, 1).distances[0]).toBe(0);
  });

  test('rejects malformed arguments', () => {
    expect(() => new ExactIndex(0, 'L2')).toThrow(RangeError);
    expect(() => new ExactIndex(2, 'HAMMING' as IndexMetric)).toThrow(RangeError);
    const index = new ExactIndex(2, 'L2');
    expect(() => index.add(new Float32Array(3), 2)).toThrow(/expected 2 × 2/);
    expect(() => index.search(new Float32Array(2), 1, 0)).toThrow(/k must be a positive integer/);
    expect(() => index.search(new Float32Array(3), 1, 1)).toThrow(RangeError);
  });
});

// With one core available, `threads: 2` and searchParallel run on this thread; the results must not change either way.
describe('ExactIndex on worker threads (identical to this thread and to brute force)', () => {
  const metrics: IndexMetric[] = ['L2', 'INNER_PRODUCT', 'COSINE'];

  afterAll(() => stopSearchWorkers());

  describe.each(metrics)('%s', (metric) => {
    test.each([
      // Many chunks per worker; several kernel calls per stored block (hit buffer bound).
      { dim: 24, stored: 3000, queries: 301, k: 7 },
      // Heap-sized k (and heap-sized candidate lists for L2).
      { dim: 5, stored: 1000, queries: 64, k: 40 },
      // Odd dimension, several stored blocks, a query count that is not a multiple of 4.
      { dim: 131, stored: 700, queries: 37, k: 3 },
    ])('dim $dim, $stored stored, $queries queries, k=$k', async ({ dim, stored, queries, k }) => {
      const points = randomRows(stored, dim, 5 + dim);
      const queryRows = randomRows(queries, dim, 50 + dim);
      const index = new ExactIndex(dim, metric);
      index.add(points, stored);

      const sequential = index.search(queryRows, queries, k, { threads: 1 });
      const threaded = index.search(queryRows, queries, k, { threads: 2 });
      const asynchronous = await index.searchParallel(queryRows, queries, k);

      expect(threaded).toEqual(sequential);
      expect(asynchronous).toEqual(sequential);
      expect(rowsOf(sequential, k)).toEqual(bruteForce(points, queryRows, dim, metric, k));
    });

    test('exact ties and k larger than the index', async () => {
      const dim = 3;
      const points = randomIntegerRows(500, dim, 21, 3);
      const queryRows = randomIntegerRows(40, dim, 22, 3);
      const index = new ExactIndex(dim, metric);
      index.add(points, 500);

      for (const k of [5, 70, 600]) {
        const expected = bruteForce(points, queryRows, dim, metric, Math.min(k, 500));
        const padded = expected.map((row) => ({
          indices: [...row.indices, ...new Array<number>(k - row.indices.length).fill(-1)],
          distances: [
            ...row.distances,
            ...new Array<number>(k - row.distances.length).fill(metric === 'L2' ? Infinity : -Infinity),
          ],
        }));
        expect(rowsOf(index.search(queryRows, 40, k, { threads: 2 }), k)).toEqual(padded);
        expect(rowsOf(await index.searchParallel(queryRows, 40, k), k)).toEqual(padded);
      }
    });
  });

  // L2 finds candidates with ‖x‖² − 2q·x and re-ranks them exactly; these inputs defeat the expansion's precision,
  // so the error bound must send the queries to the direct-difference search.
  test.each([
    { what: 'points far from the origin, close to each other (cancellation)', offset: 1000, scale: 1e-3 },
    { what: 'tiny values (float32 underflow in the squares)', offset: 0, scale: 1e-22 },
    { what: 'huge values (norms beyond the expansion’s safe range)', offset: 0, scale: 1e17 },
  ])('L2 stays exact for $what', ({ offset, scale }) => {
    const dim = 6;
    const shift = (rows: Float32Array): Float32Array => rows.map((value) => offset + scale * value);
    const points = shift(randomRows(800, dim, 31));
    const queryRows = shift(randomRows(30, dim, 32));
    const index = new ExactIndex(dim, 'L2');
    index.add(points, 800);

    const expected = bruteForce(points, queryRows, dim, 'L2', 6);
    expect(rowsOf(index.search(queryRows, 30, 6, { threads: 1 }), 6)).toEqual(expected);
    expect(rowsOf(index.search(queryRows, 30, 6, { threads: 2 }), 6)).toEqual(expected);
  });

  test('duplicated points: equal distances keep insertion order on every path', () => {
    const dim = 4;
    const base = randomRows(50, dim, 41);
    const points = new Float32Array(50 * 8 * dim);
    for (let copy = 0; copy < 8; copy++) points.set(base, copy * 50 * dim);
    const queryRows = randomRows(20, dim, 42);
    const index = new ExactIndex(dim, 'L2');
    index.add(points, 400);

    const expected = bruteForce(points, queryRows, dim, 'L2', 20);
    expect(rowsOf(index.search(queryRows, 20, 20, { threads: 1 }), 20)).toEqual(expected);
    expect(rowsOf(index.search(queryRows, 20, 20, { threads: 2 }), 20)).toEqual(expected);
  });

  test('an empty index, and no queries at all', async () => {
    const empty = new ExactIndex(3, 'L2');
    const padded = await empty.searchParallel(new Float32Array([1, 2, 3, 4, 5, 6]), 2, 2);
    expect(Array.from(padded.indices)).toEqual([-1, -1, -1, -1]);
    expect(Array.from(padded.distances)).toEqual([Infinity, Infinity, Infinity, Infinity]);

    const index = new ExactIndex(3, 'COSINE');
    index.add(randomRows(10, 3, 1), 10);
    const none = await index.searchParallel(new Float32Array(0), 0, 4);
    expect(none.indices).toHaveLength(0);
    expect(index.search(new Float32Array(0), 0, 4, { threads: 2 }).indices).toHaveLength(0);
  });

  test('concurrent searches share the index; add() waits until searchParallel settles', async () => {
    const dim = 8;
    const points = randomRows(2000, dim, 51);
    const queryRows = randomRows(200, dim, 52);
    const index = new ExactIndex(dim, 'L2');
    index.add(points, 2000);
    const expected = index.search(queryRows, 200, 5, { threads: 1 });

    const first = index.searchParallel(queryRows, 200, 5);
    const second = index.searchParallel(queryRows, 200, 5, { threads: 2 });
    expect(() => index.add(points.subarray(0, dim), 1)).toThrow(/searchParallel/);
    // A synchronous search meanwhile gets its own scratch memory.
    expect(index.search(queryRows, 200, 5, { threads: 2 })).toEqual(expected);
    await expect(first).resolves.toEqual(expected);
    await expect(second).resolves.toEqual(expected);

    index.add(points.subarray(0, dim), 1);
    expect(index.size).toBe(2001);
  });

  test('rejects a thread count that is not a positive integer', async () => {
    const index = new ExactIndex(2, 'L2');
    expect(() => index.search(new Float32Array(2), 1, 1, { threads: 0 })).toThrow(/threads must be a positive integer/);
    await expect(index.searchParallel(new Float32Array(2), 1, 1, { threads: 1.5 })).rejects.toThrow(RangeError);
  });
});

test('a k far beyond the stored count costs memory for the stored points only', () => {
  const index = new ExactIndex(2, 'L2');
  index.add(new Float32Array([0, 0, 3, 4]), 2);
  const k = 1_000_000;
  const result = index.search(new Float32Array([3, 4]), 1, k, { threads: 1 });
  expect(Array.from(result.indices.subarray(0, 3))).toEqual([1, 0, -1]);
  expect(Array.from(result.distances.subarray(0, 3))).toEqual([0, 25, Infinity]);
  expect(result.indices[k - 1]).toBe(-1);
});

describe('kernel variants: relaxed-SIMD fused multiply-add and the SIMD128 fallback give the same exact answers', () => {
  const detected = bestKernelVariant();
  afterAll(async () => {
    useKernelVariant(detected);
    await stopSearchWorkers();
  });

  test('this runtime has relaxed SIMD (Node 20 after enabling its flag, Node 22+ as is)', () => {
    // Where it is missing the engine falls back to SIMD128 (the next test); this records which path ran.
    expect(['relaxed-fma', 'simd128']).toContain(detected);
  });

  test.each([
    { dim: 16, stored: 3000, queries: 41, k: 5 },
    { dim: 128, stored: 2100, queries: 9, k: 10 },
    // Near-equal distances at the k-th place: the error bound sends some queries to the direct kernel.
    { dim: 2, stored: 500, queries: 30, k: 7, integers: true },
  ])('dim $dim, $stored stored, k=$k: each variant equals brute force', ({ dim, stored, queries, k, integers }) => {
    const points = integers ? randomIntegerRows(stored, dim, 8, 3) : randomRows(stored, dim, 5 + dim);
    const queryRows = integers ? randomIntegerRows(queries, dim, 9, 3) : randomRows(queries, dim, 7 + dim);
    const expected = bruteForce(points, queryRows, dim, 'L2', k);
    const variants = detected === 'relaxed-fma' ? (['simd128', 'relaxed-fma'] as const) : (['simd128'] as const);
    for (const variant of variants) {
      useKernelVariant(variant);
      const index = new ExactIndex(dim, 'L2');
      index.add(points, stored);
      expect(rowsOf(index.search(queryRows, queries, k, { threads: 1 }), k)).toEqual(expected);
    }
  });
});
