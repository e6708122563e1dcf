import { describeSample, evenlySpaced, scatterSample } from '../../../src/report/sampling';
import { pickRows } from '../../../src/report/sections/validation';
import { timePerState } from '../../../src/report/sections/execution';

describe('scatter matrix sample', () => {
  const names = Array.from({ length: 9 }, (_, i) => `f${i}`);
  const points = Array.from({ length: 1000 }, (_, i) => ({
    features: names.map((_, j) => i + j),
    target: String(i % 4),
  }));

  test('evenly spaced rows are always the same ones and keep sorted data in proportion', () => {
    expect(evenlySpaced([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(
      evenlySpaced(
        Array.from({ length: 10 }, (_, i) => i),
        4,
      ),
    ).toEqual([0, 2, 5, 7]);
    const sorted = Array.from({ length: 900 }, (_, i) => Math.floor(i / 300));
    const counts = [0, 1, 2].map((label) => evenlySpaced(sorted, 300).filter((value) => value === label).length);
    expect(counts).toEqual([100, 100, 100]);
  });

  test('keeps the first 6 features and 300 rows, and says so', () => {
    const sample = scatterSample(names, points);
    expect(sample.featureNames).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
    expect(sample.points).toHaveLength(300);
    expect(sample.points.every((point) => point.features.length === 6)).toBe(true);
    expect(describeSample(sample)).toBe(
      'Shows only the first 6 of 9 features and 300 of 1000 rows, sampled deterministically at even intervals.',
    );
    expect(describeSample(scatterSample(names.slice(0, 4), points.slice(0, 150)))).toBeNull();
  });
});

describe('validation rows shown', () => {
  test('notable rows come first, then the others, each in their order, up to the limit', () => {
    const rows = Array.from({ length: 10 }, (_, row) => ({ row, bad: row % 4 === 3 }));
    expect(pickRows(rows, (r) => r.bad, 100).map((r) => r.row)).toEqual([3, 7, 0, 1, 2, 4, 5, 6, 8, 9]);
    expect(pickRows(rows, (r) => r.bad, 4).map((r) => r.row)).toEqual([3, 7, 0, 1]);
  });
});

describe('time per state', () => {
  test('adds up repeated visits in order of first visit; one failed visit marks the state failed', () => {
    const states = timePerState([
      { state: 'Wait', status: 'succeeded', durationMs: 1000 },
      { state: 'Describe', status: 'succeeded', durationMs: 50 },
      { state: 'Wait', status: 'succeeded', durationMs: 1000 },
      { state: 'Describe', status: 'failed', durationMs: null },
    ]);
    expect(states).toEqual([
      { state: 'Wait', seconds: 2, label: '2.00 s (2×)', status: 'succeeded' },
      { state: 'Describe', seconds: 0.05, label: '50 ms (2×)', status: 'failed' },
    ]);
  });
});
