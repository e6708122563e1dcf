import { parseHyperparameters } from '../../../local/knn/hyperparameters';
import type { KnnModel } from '../../../local/knn/model';
import { majorityLabel, predict } from '../../../local/knn/predict';

function model(points: number[], labels: number[], options: Partial<KnnModel> = {}): KnnModel {
  const predictorType = options.predictorType ?? 'classifier';
  const k = options.k ?? 1;
  return {
    hyperparameters: parseHyperparameters({
      feature_dim: '1',
      k: String(k),
      predictor_type: predictorType,
      sample_size: '100',
    }),
    dim: 1,
    metric: 'L2',
    predictorType,
    k,
    points: new Float32Array(points),
    labels: new Float32Array(labels),
    count: labels.length,
    ...options,
  };
}

describe('predict', () => {
  test('classifier: the most frequent label among the k nearest', () => {
    const m = model([0, 1, 2, 10, 11], [7, 3, 3, 7, 7], { k: 3 });
    expect(predict(m, [[0.2], [10.5]]).map((p) => p.predicted_label)).toEqual([3, 7]);
  });

  test('classifier tie: the smallest tied label wins, wherever its neighbours are (numpy/scikit-learn rule)', () => {
    // Query 0: neighbours by distance have labels 2, 0, 0, 2 -> 2 and 0 tie twice each; 0 is smaller.
    const m = model([0, 1, 2, 3, 50], [2, 0, 0, 2, 9], { k: 4 });
    expect(predict(m, [[0]])[0].predicted_label).toBe(0);
    expect(predict(m, [[3]])[0].predicted_label).toBe(0);
    // k = 2 with two different labels: a tie, so the smaller label, even though label 2 is nearer.
    expect(predict({ ...m, k: 2 }, [[2.9]])[0].predicted_label).toBe(0);
  });

  test('majorityLabel prefers a strict majority over an earlier label', () => {
    expect(majorityLabel([5, 1, 1])).toBe(1);
    expect(majorityLabel([5, 1, 1, 5, 5])).toBe(5);
    expect(majorityLabel([4, 1, 2])).toBe(1);
    expect(() => majorityLabel([])).toThrow();
  });

  test('regressor: the float32 mean of the k nearest labels', () => {
    const m = model([0, 1, 2, 3], [1, 2, 2, 100], { predictorType: 'regressor', k: 3 });
    expect(predict(m, [[0]])[0].predicted_label).toBe(Math.fround(5 / 3));
  });

  test('verbose: neighbour labels and distances, aligned, nearest first (equal distances by stored order)', () => {
    const m = model([0, 3, 1], [0, 1, 2], { k: 3 });
    expect(predict(m, [[0.5]], { verbose: true })).toEqual([
      { predicted_label: 0, labels: [0, 2, 1], distances: [0.25, 0.25, 6.25] },
    ]);
    expect(predict(m, [[0.5]])).toEqual([{ predicted_label: 0 }]);
  });

  test('verbose with INNER_PRODUCT: the largest inner product first', () => {
    const m = model([1, 3, 2], [0, 1, 2], { k: 2, metric: 'INNER_PRODUCT' });
    expect(predict(m, [[2]], { verbose: true })).toEqual([{ predicted_label: 1, labels: [1, 2], distances: [6, 4] }]);
  });

  test('with fewer points than k, every point is a neighbour', () => {
    const m = model([0, 5], [1, 1], { k: 10 });
    expect(predict(m, [[0]], { verbose: true })).toEqual([{ predicted_label: 1, labels: [1, 1], distances: [0, 25] }]);
  });

  test('takes row-major float32 queries as well as arrays', () => {
    const m = model([0, 10], [0, 1]);
    expect(predict(m, { data: new Float32Array([9, 1, 6]), count: 3 }).map((p) => p.predicted_label)).toEqual([
      1, 0, 1,
    ]);
  });

  test('a multi-dimensional model checks the query width', () => {
    const m = model([0, 0, 1, 1], [0, 1], { dim: 2 });
    expect(predict(m, [[0.9, 0.8]])[0].predicted_label).toBe(1);
    expect(() => predict(m, [[1]])).toThrow(/query 0 has 1 features, expected 2/);
    expect(() => predict(m, { data: new Float32Array(3), count: 1 })).toThrow(RangeError);
  });

  test('a model edited in place is searched again (the index cache follows the points)', () => {
    const m = model([0, 10], [0, 1]);
    expect(predict(m, [[1]])[0].predicted_label).toBe(0);
    m.points = new Float32Array([10, 0]);
    expect(predict(m, [[1]])[0].predicted_label).toBe(1);
  });
});

describe('predictAsync', () => {
  test('gives exactly what predict gives (search on the worker threads)', async () => {
    const { predictAsync } = await import('../../../local/knn/predict');
    const points = Array.from({ length: 3000 }, (_, i) => [Math.sin(i) * 10, Math.cos(i * 0.7) * 10, (i % 17) - 8]);
    const m = model(
      points.flat(),
      points.map((_, i) => i % 4),
      { k: 5, dim: 3 },
    );
    const queries = Array.from({ length: 2000 }, (_, i) => [Math.cos(i) * 9, Math.sin(i * 1.3) * 9, (i % 11) - 5]);
    expect(await predictAsync(m, queries, { verbose: true })).toEqual(predict(m, queries, { verbose: true }));
  });
});
