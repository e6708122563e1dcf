import type { PredictorType } from './runConfig';

/** What one fold's training job reported through its test channel (FinalMetricDataList). */
export interface FoldResult {
  fold: number;
  trainingJobName: string;
  trainRows: number;
  testRows: number;
  finalMetrics: { MetricName: string; Value: number }[];
  billableSeconds?: number;
}

export interface MetricSpread {
  mean: number;
  std: number;
  min: number;
  max: number;
}

export interface CrossValidationSummary {
  folds: number;
  perFold: {
    fold: number;
    trainingJobName: string;
    trainRows: number;
    testRows: number;
    metrics: Record<string, number>;
  }[];
  metrics: Record<string, MetricSpread>;
  highSpread: boolean;
  message: string;
}

/** A fold-to-fold standard deviation above this (in accuracy / F1 / R² units) suggests an unstable model. */
export const HIGH_SPREAD_STD = 0.05;

const METRIC_NAMES: Record<string, string> = {
  'test:accuracy': 'accuracy',
  'test:macro_f_1.000': 'macroF1',
  'test:mse': 'mse',
};

/** Mean and population standard deviation, as numpy's mean/std (ddof=0) and scikit-learn's reports. */
export function spread(values: number[]): MetricSpread {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

/** Per-fold and mean ± std of the fold metrics; flags a high spread between folds. */
export function summariseCrossValidation(predictorType: PredictorType, folds: FoldResult[]): CrossValidationSummary {
  const perFold = [...folds]
    .sort((a, b) => a.fold - b.fold)
    .map((fold) => ({
      fold: fold.fold,
      trainingJobName: fold.trainingJobName,
      trainRows: fold.trainRows,
      testRows: fold.testRows,
      metrics: Object.fromEntries(
        fold.finalMetrics.filter((m) => METRIC_NAMES[m.MetricName]).map((m) => [METRIC_NAMES[m.MetricName], m.Value]),
      ),
    }));
  const names = predictorType === 'classifier' ? ['accuracy', 'macroF1'] : ['mse'];
  const metrics: Record<string, MetricSpread> = {};
  for (const name of names) {
    const values = perFold.map((f) => f.metrics[name]).filter((v): v is number => typeof v === 'number');
    if (values.length === perFold.length && values.length > 0) metrics[name] = spread(values);
  }
  const headline = predictorType === 'classifier' ? 'accuracy' : 'mse';
  const main = metrics[headline];
  // For mse the scale is the data's own, so compare the spread with the mean instead of a fixed number.
  const highSpread =
    main !== undefined &&
    (predictorType === 'classifier' ? main.std > HIGH_SPREAD_STD : main.mean > 0 && main.std / main.mean > 0.5);
  const summaryText = main
    ? `${folds.length}-fold cross-validation: ${headline} ${main.mean.toFixed(4)} ± ${main.std.toFixed(4)} (min ${main.min.toFixed(4)}, max ${main.max.toFixed(4)})`
    : `${folds.length}-fold cross-validation: no ${headline} reported by the fold training jobs`;
  const message = highSpread
    ? `${summaryText} — high spread between folds: the score depends strongly on which rows are held out (small or unrepresentative data, or an unstable k).`
    : `${summaryText}.`;
  return { folds: folds.length, perFold, metrics, highSpread, message };
}
