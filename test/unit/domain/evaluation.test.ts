import { checkQualityGate, parsePredictions, parseTestChannel, planBatches } from '../../../src/domain/evaluation';

describe('planBatches', () => {
  test('packs rows into as few requests as the byte limit allows, in order, never splitting a row', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `${i},${i + 0.5},${-i}`);
    const batches = planBatches(rows, 4096);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.every((b) => Buffer.byteLength(b.body) <= 4096)).toBe(true);
    expect(batches.map((b) => b.body).join('')).toBe(rows.map((r) => `${r}\n`).join(''));
    expect(batches.reduce((n, b) => n + b.rowCount, 0)).toBe(1000);
    expect(batches[1].firstRow).toBe(batches[0].rowCount);
  });

  test('a 100,000-row test set of Iris-like rows needs only a handful of calls', () => {
    const rows = Array.from({ length: 100_000 }, () => '5.1,3.5,1.4,0.2');
    expect(planBatches(rows).length).toBe(1);
  });

  test('caps rows per request so the JSON answer also fits in 6 MiB', () => {
    const rows = Array.from({ length: 10 }, () => '1');
    expect(planBatches(rows, 1 << 20, 3).map((b) => b.rowCount)).toEqual([3, 3, 3, 1]);
  });
});

test('parsePredictions reads predicted labels and checks the count', () => {
  expect(parsePredictions('{"predictions":[{"predicted_label":2.0},{"predicted_label":0.0}]}', 2)).toEqual([2, 0]);
  expect(() => parsePredictions('not json', 1)).toThrow('non-JSON');
  expect(() => parsePredictions('not json', 1)).toThrow(
    expect.objectContaining({ name: 'EvaluationError', cause: expect.any(SyntaxError) }),
  );
  expect(() => parsePredictions('{"predictions":[{}]}', 1)).toThrow('no numeric predicted_label');
});

test('quality gate: minimum for scores, maximum for losses, missing metric fails', () => {
  expect(checkQualityGate({ metric: 'accuracy', threshold: 0.9, direction: 'min' }, { accuracy: 0.9 }).passed).toBe(
    true,
  );
  expect(checkQualityGate({ metric: 'mse', threshold: 1, direction: 'max' }, { mse: 1.5 }).passed).toBe(false);
  expect(checkQualityGate({ metric: 'r2', threshold: 0, direction: 'min' }, {}).passed).toBe(false);
});

describe('parseTestChannel', () => {
  test("keeps each row's feature text as written and reads the labels", () => {
    expect(parseTestChannel('2,5.9,3,5.1,1.8\r\n0,4.4,2.9,1.4,0.2\n\n', 's3://b/test.csv')).toEqual({
      labels: [2, 0],
      featureLines: ['5.9,3,5.1,1.8', '4.4,2.9,1.4,0.2'],
      featureCount: 4,
    });
  });

  test('refuses rows of another width or without a numeric label, naming the source and row', () => {
    expect(() => parseTestChannel('1,2,3\n0,1\n', 's3://b/t.csv')).toThrow(
      's3://b/t.csv: row 2: expected 2 features like the first row, got 1',
    );
    expect(() => parseTestChannel('x,1,2\n', 's3://b/t.csv')).toThrow('s3://b/t.csv: row 1: expected a numeric label');
  });
});
