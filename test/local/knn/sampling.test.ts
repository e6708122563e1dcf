import { sampleRows } from '../../../local/knn/sampling';

describe('sampleRows', () => {
  test('returns sampleSize distinct rows in increasing order', () => {
    const sample = sampleRows(1000, 100, 7);
    expect(sample).toBeInstanceOf(Int32Array);
    expect(sample.length).toBe(100);
    for (let i = 1; i < sample.length; i++) expect(sample[i]).toBeGreaterThan(sample[i - 1]);
    expect(sample[0]).toBeGreaterThanOrEqual(0);
    expect(sample[99]).toBeLessThan(1000);
  });

  test('is determined by the seed', () => {
    expect(sampleRows(500, 50, 3)).toEqual(sampleRows(500, 50, 3));
    expect(sampleRows(500, 50, 3)).not.toEqual(sampleRows(500, 50, 4));
  });

  test('returns every row, in order, when the sample is at least as large as the data', () => {
    expect(Array.from(sampleRows(5, 5, 1))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(sampleRows(5, 200, 1))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(sampleRows(0, 3, 1))).toEqual([]);
    expect(Array.from(sampleRows(5, 0, 1))).toEqual([]);
  });

  test('every row and every subset is about equally likely', () => {
    const trials = 20000;
    const rowHits = new Array<number>(5).fill(0);
    const subsetHits = new Map<string, number>();
    for (let seed = 0; seed < trials; seed++) {
      const sample = Array.from(sampleRows(5, 2, seed));
      for (const row of sample) rowHits[row]++;
      subsetHits.set(sample.join(','), (subsetHits.get(sample.join(',')) ?? 0) + 1);
    }
    // Each row is in 2/5 of the samples; each of the C(5,2) = 10 pairs in 1/10 (±4 standard deviations).
    for (const hits of rowHits) expect(Math.abs(hits / trials - 0.4)).toBeLessThan(0.015);
    expect(subsetHits.size).toBe(10);
    for (const hits of subsetHits.values()) expect(Math.abs(hits / trials - 0.1)).toBeLessThan(0.009);
  });

  test('samples 1000 distinct rows out of 3 million', () => {
    const sample = Array.from(sampleRows(3_000_000, 1000, 1));
    expect(sample).toHaveLength(1000);
    expect(new Set(sample).size).toBe(1000);
    expect(sample.every((row) => Number.isInteger(row) && row >= 0 && row < 3_000_000)).toBe(true);
  });

  test('rejects impossible sizes and seeds', () => {
    expect(() => sampleRows(-1, 2, 0)).toThrow(RangeError);
    expect(() => sampleRows(10, 2.5, 0)).toThrow(RangeError);
    expect(() => sampleRows(10, 2, -1)).toThrow(/seed/);
  });
});
