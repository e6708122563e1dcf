import { spread, summariseCrossValidation } from '../../../src/domain/crossValidation';

const fold = (n: number, accuracy: number, f1 = accuracy) => ({
  fold: n,
  trainingJobName: `job-f${n}`,
  trainRows: 120,
  testRows: 30,
  finalMetrics: [
    { MetricName: 'test:accuracy', Value: accuracy },
    { MetricName: 'test:macro_f_1.000', Value: f1 },
  ],
});

test('spread is the mean and the population standard deviation (numpy ddof=0)', () => {
  expect(spread([1, 0.8666666666666667, 1, 1, 0.9333333333333333])).toEqual({
    mean: 0.96,
    std: expect.closeTo(0.0533333333333333, 12),
    min: 0.8666666666666667,
    max: 1,
  });
});

test('per-fold metrics in fold order, mean ± std, and no flag when folds agree', () => {
  const summary = summariseCrossValidation('classifier', [fold(2, 0.94), fold(1, 0.96), fold(3, 0.95)]);
  expect(summary.perFold.map((f) => f.fold)).toEqual([1, 2, 3]);
  expect(summary.perFold[0].metrics).toEqual({ accuracy: 0.96, macroF1: 0.96 });
  expect(summary.metrics.accuracy.mean).toBeCloseTo(0.95, 12);
  expect(summary.highSpread).toBe(false);
  expect(summary.message).toBe('3-fold cross-validation: accuracy 0.9500 ± 0.0082 (min 0.9400, max 0.9600).');
});

test('a high spread between folds is flagged with an explanation', () => {
  const summary = summariseCrossValidation('classifier', [fold(1, 1), fold(2, 0.8), fold(3, 0.95)]);
  expect(summary.highSpread).toBe(true);
  expect(summary.message).toMatch(/high spread between folds/);
});

test('regressor folds report mse', () => {
  const summary = summariseCrossValidation('regressor', [
    { ...fold(1, 0), finalMetrics: [{ MetricName: 'test:mse', Value: 2 }] },
    { ...fold(2, 0), finalMetrics: [{ MetricName: 'test:mse', Value: 4 }] },
  ]);
  expect(summary.metrics.mse).toEqual({ mean: 3, std: 1, min: 2, max: 4 });
  expect(summary.highSpread).toBe(false);
});
