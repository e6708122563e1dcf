/**
 * The report's reading of the big files as streams: records cut at any chunk boundary, seeded reservoir samples, and
 * digests of predictions.csv and the prepared dataset that equal what the whole files give.
 */
import { predictionsCsv } from '../../../src/domain/evaluation';
import { parsePredictionsCsv, ReportInputError } from '../../../src/report';
import { Float64Splitter, RecordSplitter } from '../../../src/report/records';
import { MAX_VALIDATION_ROWS, ReservoirSample, sampleKey } from '../../../src/report/sampling';
import {
  digestDataset,
  digestDatasetBytes,
  digestPredictions,
  digestPredictionsBytes,
  LARGE_ERROR_SHARE,
} from '../../../src/report/streamed';
import { pickRows } from '../../../src/report/sections/validation';
import type { ClassifiedRow, RegressedRow } from '../../../src/report';

const encode = (text: string) => new TextEncoder().encode(text);

/** The bytes in chunks of the given sizes (cycled), as a re-readable source. */
function chunked(bytes: Uint8Array, sizes: number[]) {
  return async function* () {
    let offset = 0;
    for (let i = 0; offset < bytes.length; i++) {
      const size = sizes[i % sizes.length];
      yield bytes.subarray(offset, offset + size);
      offset += size;
    }
  };
}

function records(bytes: Uint8Array, sizes: number[], quoted: boolean): string[] {
  const out: string[] = [];
  const splitter = new RecordSplitter((buffer, start, end) => out.push(buffer.toString('utf8', start, end)), quoted);
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    splitter.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  splitter.end();
  return out;
}

describe('RecordSplitter', () => {
  const text = 'a,1\r\nb,"x\ny, ""q"""\n\n"multi\n\nline",3\nlast,4';
  const expected = ['a,1', 'b,"x\ny, ""q"""', '"multi\n\nline",3', 'last,4'];

  test('cuts CSV records at newlines outside quotes, whatever the chunk boundaries', () => {
    const bytes = encode(text);
    for (const sizes of [[bytes.length], [1], [2, 3], [5, 1, 7], [4]])
      expect(records(bytes, sizes, true)).toEqual(expected);
  });

  test('plain lines (no quote handling), CRLF and a last line without newline, empty lines skipped', () => {
    const bytes = encode('1,2\r\n3,4\n\n"5\n6"');
    expect(records(bytes, [3], false)).toEqual(['1,2', '3,4', '"5', '6"']);
  });
});

describe('Float64Splitter', () => {
  test('reads little-endian float64 values split at any boundary, and counts stray bytes', () => {
    const values = [0, 1, -2.5, 1e300, Math.PI, 4];
    const bytes = new Uint8Array(new Float64Array(values).buffer);
    for (const size of [1, 3, 7, 8, 9, 48]) {
      const seen: number[] = [];
      const splitter = new Float64Splitter((index, buffer, offset) => (seen[index] = buffer.readDoubleLE(offset)));
      for (let offset = 0; offset < bytes.length; offset += size) splitter.push(bytes.subarray(offset, offset + size));
      expect(seen).toEqual(values);
      expect(splitter.count).toBe(6);
      expect(splitter.end()).toBe(0);
    }
    const stray = new Float64Splitter(() => undefined);
    stray.push(bytes.subarray(0, 11));
    expect(stray.end()).toBe(3);
  });
});

describe('seeded reservoir sample', () => {
  function sample(rows: number, capacity: number, seed: number, order?: number[]): number[] {
    const reservoir = new ReservoirSample<number>(capacity, seed);
    for (const index of order ?? Array.from({ length: rows }, (_, i) => i))
      if (reservoir.offer(index)) reservoir.add(index, index);
    return reservoir.values();
  }

  test('keeps min(rows, capacity) rows in row order, the same for the same seed whatever the order seen', () => {
    expect(sample(5, 10, 0)).toEqual([0, 1, 2, 3, 4]);
    const forward = sample(10_000, 300, 7);
    expect(forward).toHaveLength(300);
    expect([...forward].sort((a, b) => a - b)).toEqual(forward);
    expect(new Set(forward).size).toBe(300);
    expect(sample(10_000, 300, 7)).toEqual(forward);
    const reversed = Array.from({ length: 10_000 }, (_, i) => 9_999 - i);
    expect(sample(10_000, 300, 7, reversed)).toEqual(forward);
    expect(sample(10_000, 300, 8)).not.toEqual(forward);
  });

  test('a smaller sample of the same seed is part of a larger one (the same keys decide)', () => {
    const small = sample(5_000, 50, 3);
    const large = new Set(sample(5_000, 500, 3));
    expect(small.every((index) => large.has(index))).toBe(true);
  });

  test('every row is equally likely to be drawn (2,000 seeded samples of 10 of 100 rows)', () => {
    const hits = new Array<number>(100).fill(0);
    for (let seed = 0; seed < 2_000; seed++) for (const index of sample(100, 10, seed)) hits[index] += 1;
    // Expected 200 each, standard deviation about 13.4: ±4.5 of them.
    expect(Math.min(...hits)).toBeGreaterThan(140);
    expect(Math.max(...hits)).toBeLessThan(260);
  });

  test('keys never tie: a bijection of the row index for a seed', () => {
    const keys = new Set(Array.from({ length: 200_000 }, (_, i) => sampleKey(42, i)));
    expect(keys.size).toBe(200_000);
  });
});

const CLASSES = ['set, "osa"', 'versi\ncolor', 'virginica'];
const FEATURES = ['a', 'b, c'];

/** predictions.csv of `rows` test rows: every 7th row missed (classifier) or 50 % off (regressor), seeded values. */
function predictions(rows: number, predictorType: 'classifier' | 'regressor'): string {
  const lines = Array.from({ length: rows }, (_, i) => `${(i % 13) / 4},${(i * 7) % 11}`);
  const truth = lines.map((_, i) => (predictorType === 'classifier' ? i % 3 : (i % 17) + 0.25));
  const predicted = truth.map((value, i) =>
    predictorType === 'classifier' ? (i % 7 === 3 ? (value + 1) % 3 : value) : value * (i % 9 === 0 ? 1.5 : 1.01),
  );
  return predictionsCsv(
    predictorType,
    FEATURES,
    lines,
    truth,
    predicted,
    predictorType === 'classifier' ? CLASSES : null,
  );
}

/** The regressor's threshold as the report works it out from every row. */
function thresholdOf(rows: RegressedRow[]): number {
  const sorted = rows.map((row) => Math.abs(row.error)).sort((a, b) => b - a);
  const flagged = Math.max(1, Math.floor(sorted.length * LARGE_ERROR_SHARE));
  return Math.max(sorted[flagged - 1] ?? Infinity, Number.MIN_VALUE);
}

describe('predictions.csv digest', () => {
  test('classifier: exact counts, the table of the whole file (misses first), a uniform sample for the charts', async () => {
    const csv = predictions(3_000, 'classifier');
    const all = parsePredictionsCsv(csv, 'classifier');
    const whole = digestPredictionsBytes(encode(csv), 'classifier', 5, true);
    const misses = all.filter((row) => !row.match);
    expect(whole.digest).toMatchObject({
      testRows: 3_000,
      notableRows: misses.length,
      sampledFrom: { rows: 3_000, seed: 5 },
    });
    expect(whole.digest.tableRows).toEqual(pickRows(all, (row) => !row.match, MAX_VALIDATION_ROWS));
    expect(whole.validation).toHaveLength(1_000);
    const byRow = new Map(all.map((row) => [row.row, row]));
    for (const row of whole.validation) expect(row).toEqual(byRow.get(row.row));
    // Without the dataset: a sample of the test rows for the scatter matrix, their true labels as targets.
    expect(whole.testPoints).toMatchObject({ origin: 'test rows', sampledFrom: { rows: 3_000, seed: 5 } });
    expect(whole.testPoints.points).toHaveLength(300);
    expect(whole.testPoints.points.every((point) => CLASSES.includes(String(point.target)))).toBe(true);
    for (const sizes of [[3, 1000], [4096], [17]]) {
      const streamed = await digestPredictions(chunked(encode(csv), sizes), 'classifier', 5, true);
      expect(streamed).toEqual(whole);
    }
  });

  test('regressor: the worst tenth from every row, its first rows listed first, read twice', async () => {
    const csv = predictions(2_500, 'regressor');
    const all = parsePredictionsCsv(csv, 'regressor');
    const threshold = thresholdOf(all);
    const isLarge = (row: RegressedRow) => Math.abs(row.error) >= threshold;
    const whole = digestPredictionsBytes(encode(csv), 'regressor', 0, false);
    expect(whole.digest).toMatchObject({
      testRows: 2_500,
      notableRows: all.filter(isLarge).length,
      largeErrorThreshold: threshold,
      sampledFrom: { rows: 2_500, seed: 0 },
    });
    expect(whole.digest.tableRows).toEqual(pickRows(all, isLarge, MAX_VALIDATION_ROWS));
    expect(whole.testPoints.points).toEqual([]);
    let reads = 0;
    const source = chunked(encode(csv), [333]);
    const counted = () => {
      reads += 1;
      return source();
    };
    expect(await digestPredictions(counted, 'regressor', 0, false)).toEqual(whole);
    expect(reads).toBe(2);
  });

  test('few rows: every row, no sample; the table as the whole file gives it', () => {
    const csv = predictions(40, 'classifier');
    const all = parsePredictionsCsv(csv, 'classifier') as ClassifiedRow[];
    const { validation, digest } = digestPredictionsBytes(encode(csv), 'classifier', 0, false);
    expect(validation).toEqual(all);
    expect(digest.sampledFrom).toBeUndefined();
    expect(digest.tableRows).toEqual(pickRows(all, (row) => !row.match, MAX_VALIDATION_ROWS));
  });

  test('refuses a header of the other predictor type, or no header at all', () => {
    const csv = predictions(10, 'classifier');
    expect(() => digestPredictionsBytes(encode(csv), 'regressor', 0, false)).toThrow(ReportInputError);
    expect(() => digestPredictionsBytes(new Uint8Array(), 'classifier', 0, false)).toThrow(/must have the columns/);
  });
});

describe('prepared dataset digest', () => {
  const rows = 2_000;
  const featuresCsv = Array.from({ length: rows }, (_, i) => `${i},${i % 7},${i / 8}\n`).join('');
  const labels = Float64Array.from({ length: rows }, (_, i) => i % 3);
  const labelBytes = new Uint8Array(labels.buffer);
  const shape = { rowCount: rows, classes: ['x', 'y', 'z'] };

  test('a uniform sample of the rows, each with its own label named, read from both files side by side', async () => {
    const whole = digestDatasetBytes(encode(featuresCsv), labelBytes, shape, 9);
    expect(whole.origin).toBe('dataset');
    expect(whole.sampledFrom).toEqual({ rows, seed: 9 });
    expect(whole.points).toHaveLength(300);
    for (const point of whole.points) {
      const row = point.features[0];
      expect(point.features).toEqual([row, row % 7, row / 8]);
      expect(point.target).toBe(shape.classes[row % 3]);
    }
    const streamed = await digestDataset(chunked(encode(featuresCsv), [1_000, 7]), chunked(labelBytes, [13]), shape, 9);
    expect(streamed).toEqual(whole);
  });

  test('a regressor keeps a larger sample of targets for its histogram', () => {
    const values = Float64Array.from({ length: rows }, (_, i) => i * 0.5);
    const digest = digestDatasetBytes(
      encode(featuresCsv),
      new Uint8Array(values.buffer),
      { rowCount: rows, classes: null },
      0,
    );
    expect(digest.points.every((point) => point.target === point.features[0] * 0.5)).toBe(true);
    expect(digest.targets).toEqual({ values: Array.from(values) });
  });

  test('refuses files whose row counts disagree with each other or with the manifest', () => {
    expect(() => digestDatasetBytes(encode(featuresCsv), labelBytes.subarray(0, 8 * 1999), shape, 0)).toThrow(
      'prepared/features.csv has 2000 rows and prepared/labels.f64 1999 labels; the manifest says 2000 rows',
    );
    expect(() => digestDatasetBytes(encode(featuresCsv), labelBytes.subarray(0, 8 * 2000 - 3), shape, 0)).toThrow(
      /1999 labels and 5 stray bytes/,
    );
    expect(() => digestDatasetBytes(encode(featuresCsv), labelBytes, { ...shape, rowCount: 10 }, 0)).toThrow(
      ReportInputError,
    );
    expect(() => digestDatasetBytes(encode('1,x\n'), labelBytes.subarray(0, 8), { ...shape, rowCount: 1 }, 0)).toThrow(
      'prepared/features.csv row 1: "x" is not a number',
    );
  });
});
