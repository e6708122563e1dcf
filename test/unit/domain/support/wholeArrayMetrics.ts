// The whole-array metrics as they were before the streaming accumulators (src/domain/metrics.ts at f6e87a6), kept as
// the oracle the accumulators must equal to the last bit, batch split or not.
import type { ClassificationMetrics, ClassMetrics, RegressionMetrics } from '../../../../src/domain/metrics';

export function wholeClassificationMetrics(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classCount?: number,
): ClassificationMetrics {
  let largest = -1;
  for (let i = 0; i < yTrue.length; i++) {
    if (Number.isInteger(yTrue[i]) && yTrue[i] > largest) largest = yTrue[i];
    if (Number.isInteger(yPred[i]) && yPred[i] > largest) largest = yPred[i];
  }
  const classes = classCount ?? largest + 1;
  const isClass = (v: number) => Number.isInteger(v) && v >= 0 && v < classes;
  const confusionMatrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const support = new Array<number>(classes).fill(0);
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const truth = yTrue[i];
    if (!isClass(truth)) throw new Error(`yTrue[${i}] = ${truth} is not a class index in [0, ${classes})`);
    support[truth]++;
    const predicted = yPred[i];
    if (!isClass(predicted)) continue;
    confusionMatrix[truth][predicted]++;
    if (predicted === truth) correct++;
  }
  const safe = (n: number, d: number) => (d === 0 ? 0 : n / d);
  const perClass: ClassMetrics[] = [];
  for (let label = 0; label < classes; label++) {
    const tp = confusionMatrix[label][label];
    let predictedCount = 0;
    for (let row = 0; row < classes; row++) predictedCount += confusionMatrix[row][label];
    perClass.push({
      label,
      precision: safe(tp, predictedCount),
      recall: safe(tp, support[label]),
      f1: safe(2 * tp, support[label] + predictedCount),
      support: support[label],
    });
  }
  const mean = (values: number[]) => {
    let sum = 0;
    for (const v of values) sum += v;
    return sum / values.length;
  };
  const weighted = (score: (c: ClassMetrics) => number) => {
    let w = 0;
    let total = 0;
    for (const c of perClass) {
      w += score(c) * c.support;
      total += c.support;
    }
    return safe(w, total);
  };
  return {
    accuracy: correct / yTrue.length,
    macroPrecision: mean(perClass.map((c) => c.precision)),
    macroRecall: mean(perClass.map((c) => c.recall)),
    macroF1: mean(perClass.map((c) => c.f1)),
    weightedPrecision: weighted((c) => c.precision),
    weightedRecall: weighted((c) => c.recall),
    weightedF1: weighted((c) => c.f1),
    perClass,
    confusionMatrix,
  };
}

export function wholeRegressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  const n = yTrue.length;
  let sumTrue = 0;
  let squaredErrorSum = 0;
  let absoluteErrorSum = 0;
  for (let i = 0; i < n; i++) {
    const error = yTrue[i] - yPred[i];
    sumTrue += yTrue[i];
    squaredErrorSum += error * error;
    absoluteErrorSum += Math.abs(error);
  }
  const meanTrue = sumTrue / n;
  let totalSquares = 0;
  for (let i = 0; i < n; i++) totalSquares += (yTrue[i] - meanTrue) ** 2;
  const mse = squaredErrorSum / n;
  const r2 = totalSquares !== 0 ? 1 - squaredErrorSum / totalSquares : squaredErrorSum === 0 ? 1 : 0;
  return { mse, rmse: Math.sqrt(mse), mae: absoluteErrorSum / n, r2 };
}
