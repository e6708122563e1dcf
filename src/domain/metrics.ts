// Classification and regression scores defined exactly as scikit-learn defines them (zero_division -> 0).
import { PipelineError } from '../errors';

export interface ClassMetrics {
  label: number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  weightedPrecision: number;
  weightedRecall: number;
  weightedF1: number;
  perClass: ClassMetrics[];
  /** Rows are the true class, columns the predicted class. */
  confusionMatrix: number[][];
}

export interface RegressionMetrics {
  mse: number;
  rmse: number;
  mae: number;
  r2: number;
}

export class MetricsError extends PipelineError {
  override name = 'MetricsError';
}

/**
 * Labels are class indices 0..C-1, C = classCount or (largest label in either array) + 1.
 * A prediction that is not an integer in [0, C) counts as wrong: it lowers accuracy and the
 * recall of its true class, and has no confusion-matrix column (so that row sums to less than its support).
 * A true label outside [0, C) is a caller error and throws.
 */
export function classificationMetrics(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classCount?: number,
): ClassificationMetrics {
  requireSameLength(yTrue, yPred);
  const accumulator = new ClassificationAccumulator(classCount);
  accumulator.add(yTrue, yPred);
  return accumulator.result();
}

/** sklearn's mean_squared_error, mean_absolute_error and r2_score (R² = 1 if SS_tot = 0 and perfect, else 0). */
export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  requireSameLength(yTrue, yPred);
  const accumulator = new RegressionAccumulator();
  accumulator.add(yTrue, yPred);
  return accumulator.result();
}

/** Scores that take predictions batch by batch, in row order, and give exactly the whole-array result. */
export interface MetricsAccumulator<M> {
  /** Rows added so far. */
  readonly rows: number;
  add(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void;
  result(): M;
}

/**
 * classificationMetrics over batches: O(C²) state, a confusion matrix and per-class supports, whatever the number of
 * rows. Without a class count the matrix grows with the largest integer label seen, as the whole-array inference does.
 */
export class ClassificationAccumulator implements MetricsAccumulator<ClassificationMetrics> {
  private counts: number[][] = [];
  private support: number[] = [];
  private correct = 0;
  private seen = 0;

  constructor(private readonly classCount?: number) {
    if (classCount !== undefined && (!Number.isInteger(classCount) || classCount < 1)) {
      throw new MetricsError(`classCount must be a positive integer, got ${classCount}`);
    }
  }

  get rows(): number {
    return this.seen;
  }

  add(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
    requireSameLength(yTrue, yPred);
    const known = this.classCount;
    for (let i = 0; i < yTrue.length; i++) {
      const truth = yTrue[i];
      // With the count known, a true label must lie below it; inferred, any non-negative integer extends it.
      if (known !== undefined ? !isClassIndex(truth, known) : !isClassIndex(truth, Infinity)) {
        throw new MetricsError(
          `yTrue[${this.seen + i}] = ${truth} is not a class index in [0, ${known ?? this.inferredCount(yTrue, yPred)})`,
        );
      }
      this.grow(truth);
      this.support[truth]++;
      const predicted = yPred[i];
      if (!isClassIndex(predicted, known ?? Infinity)) continue;
      this.grow(predicted);
      this.counts[truth][predicted]++;
      if (predicted === truth) this.correct++;
    }
    this.seen += yTrue.length;
  }

  result(): ClassificationMetrics {
    if (this.seen === 0) throw new MetricsError('cannot score an empty set of predictions');
    const classes = this.classCount ?? this.support.length;
    if (classes < 1) throw new MetricsError(`classCount must be a positive integer, got ${classes}`);
    this.grow(classes - 1);
    const confusionMatrix = Array.from({ length: classes }, (_, row) => this.counts[row].slice(0, classes));
    const support = this.support.slice(0, classes);

    const perClass: ClassMetrics[] = [];
    for (let label = 0; label < classes; label++) {
      const truePositives = confusionMatrix[label][label];
      let predictedCount = 0;
      for (let row = 0; row < classes; row++) predictedCount += confusionMatrix[row][label];
      perClass.push({
        label,
        precision: safeDivide(truePositives, predictedCount),
        recall: safeDivide(truePositives, support[label]),
        // sklearn >= 1.3 computes F1 from counts; equal to 2PR/(P+R), and 0 when there is no true positive.
        f1: safeDivide(2 * truePositives, support[label] + predictedCount),
        support: support[label],
      });
    }

    return {
      accuracy: this.correct / this.seen,
      macroPrecision: mean(perClass.map((c) => c.precision)),
      macroRecall: mean(perClass.map((c) => c.recall)),
      macroF1: mean(perClass.map((c) => c.f1)),
      weightedPrecision: supportWeightedMean(perClass, (c) => c.precision),
      weightedRecall: supportWeightedMean(perClass, (c) => c.recall),
      weightedF1: supportWeightedMean(perClass, (c) => c.f1),
      perClass,
      confusionMatrix,
    };
  }

  /** Makes room for class index `label` (square matrix, supports). */
  private grow(label: number): void {
    const size = label + 1;
    if (this.support.length >= size) return;
    for (const row of this.counts) while (row.length < size) row.push(0);
    while (this.counts.length < size) this.counts.push(new Array<number>(size).fill(0));
    while (this.support.length < size) this.support.push(0);
  }

  /** The class count the whole-array function would report in its error message: everything seen so far included. */
  private inferredCount(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
    return Math.max(this.support.length, inferClassCount(yTrue, yPred));
  }
}

/**
 * regressionMetrics over batches. The sums run in row order, as the whole-array loop runs them, so the result is the
 * same to the last bit; R² needs the mean before its second pass, so the true values are kept (8 bytes a row).
 */
export class RegressionAccumulator implements MetricsAccumulator<RegressionMetrics> {
  private truth = new Float64Array(1024);
  private seen = 0;
  private sumTrue = 0;
  private squaredErrorSum = 0;
  private absoluteErrorSum = 0;

  get rows(): number {
    return this.seen;
  }

  add(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
    requireSameLength(yTrue, yPred);
    if (this.seen + yTrue.length > this.truth.length) {
      const grown = new Float64Array(Math.max(this.truth.length * 2, this.seen + yTrue.length));
      grown.set(this.truth.subarray(0, this.seen));
      this.truth = grown;
    }
    for (let i = 0; i < yTrue.length; i++) {
      const error = yTrue[i] - yPred[i];
      this.truth[this.seen + i] = yTrue[i];
      this.sumTrue += yTrue[i];
      this.squaredErrorSum += error * error;
      this.absoluteErrorSum += Math.abs(error);
    }
    this.seen += yTrue.length;
  }

  result(): RegressionMetrics {
    const n = this.seen;
    if (n === 0) throw new MetricsError('cannot score an empty set of predictions');
    const meanTrue = this.sumTrue / n;
    let totalSquares = 0;
    for (let i = 0; i < n; i++) totalSquares += (this.truth[i] - meanTrue) ** 2;
    const mse = this.squaredErrorSum / n;
    let r2: number;
    if (totalSquares !== 0) r2 = 1 - this.squaredErrorSum / totalSquares;
    else r2 = this.squaredErrorSum === 0 ? 1 : 0;
    return { mse, rmse: Math.sqrt(mse), mae: this.absoluteErrorSum / n, r2 };
  }
}

/** Shortest decimal that reads back as the same float32, formatted like numpy's str(np.float32(value)). */
export function float32Repr(value: number): string {
  const single = Math.fround(value);
  if (Number.isNaN(single)) return 'nan';
  if (single === Infinity) return 'inf';
  if (single === -Infinity) return '-inf';
  if (single === 0) return Object.is(single, -0) ? '-0.0' : '0.0';
  const { digits, exponent } = shortestFloat32Digits(Math.abs(single));
  const sign = single < 0 ? '-' : '';
  const magnitude = Math.abs(single);
  // numpy prints float32 scalars in scientific notation outside [1e-4, 1e6).
  if (magnitude >= 1e-4 && magnitude < 1e6) return sign + positional(digits, exponent);
  return sign + scientific(digits, exponent);
}

interface DecimalDigits {
  /** Significant digits, e.g. "97170347". */
  digits: string;
  /** Power of ten of the first digit: value = 0.d1d2... * 10^(exponent + 1). */
  exponent: number;
}

function shortestFloat32Digits(magnitude: number): DecimalDigits {
  // 101 digits hold every float32 that can sit exactly halfway between two short decimals.
  const exact = splitExponential(magnitude.toExponential(100));
  for (let precision = 1; precision <= 9; precision++) {
    const nearest = roundHalfEven(exact, precision);
    const nearestValue = decimalToNumber(nearest);
    if (Math.fround(nearestValue) === magnitude) return trimTrailingZeros(nearest);
    // At a power of two the float32 interval is lopsided, so the other bracketing decimal can round-trip instead.
    const other = stepLastDigit(nearest, nearestValue < magnitude ? 1 : -1);
    if (Math.fround(decimalToNumber(other)) === magnitude) return trimTrailingZeros(other);
  }
  // Nine significant digits always identify a float32.
  return trimTrailingZeros(roundHalfEven(exact, 9));
}

/** Rounds exact digits to `precision` significant digits, ties to an even last digit as numpy's Dragon4 does. */
function roundHalfEven(exact: DecimalDigits, precision: number): DecimalDigits {
  const kept = { digits: exact.digits.slice(0, precision), exponent: exact.exponent };
  const firstDropped = exact.digits.charCodeAt(precision) - 48;
  const restIsZero = /^0*$/.test(exact.digits.slice(precision + 1));
  const lastKeptIsOdd = (kept.digits.charCodeAt(precision - 1) - 48) % 2 === 1;
  const roundUp = firstDropped > 5 || (firstDropped === 5 && (!restIsZero || lastKeptIsOdd));
  return roundUp ? stepLastDigit(kept, 1) : kept;
}

function splitExponential(text: string): DecimalDigits {
  const [mantissa, exponentText] = text.split('e');
  return { digits: mantissa.replace('.', ''), exponent: Number(exponentText) };
}

function stepLastDigit(decimal: DecimalDigits, step: number): DecimalDigits {
  const steppedValue = Number(decimal.digits) + step;
  const stepped = steppedValue === 0 ? '' : String(steppedValue);
  if (stepped.length > decimal.digits.length) {
    return { digits: stepped.slice(0, decimal.digits.length), exponent: decimal.exponent + 1 };
  }
  if (stepped.length < decimal.digits.length) return { digits: `${stepped}9`, exponent: decimal.exponent - 1 };
  return { digits: stepped, exponent: decimal.exponent };
}

function decimalToNumber(decimal: DecimalDigits): number {
  return Number(`0.${decimal.digits}e${decimal.exponent + 1}`);
}

function trimTrailingZeros(decimal: DecimalDigits): DecimalDigits {
  const digits = decimal.digits.replace(/0+$/, '');
  return { digits: digits === '' ? '0' : digits, exponent: decimal.exponent };
}

function positional(digits: string, exponent: number): string {
  if (exponent < 0) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
  const integerDigits = exponent + 1;
  if (digits.length <= integerDigits) return `${digits}${'0'.repeat(integerDigits - digits.length)}.0`;
  return `${digits.slice(0, integerDigits)}.${digits.slice(integerDigits)}`;
}

function scientific(digits: string, exponent: number): string {
  const mantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  const exponentDigits = String(Math.abs(exponent)).padStart(2, '0');
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${exponentDigits}`;
}

function inferClassCount(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  let largest = -1;
  for (let i = 0; i < yTrue.length; i++) {
    if (Number.isInteger(yTrue[i]) && yTrue[i] > largest) largest = yTrue[i];
    if (Number.isInteger(yPred[i]) && yPred[i] > largest) largest = yPred[i];
  }
  return largest + 1;
}

function isClassIndex(value: number, classCount: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < classCount;
}

function requireSameLength(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): void {
  if (yTrue.length !== yPred.length) {
    throw new MetricsError(`yTrue has ${yTrue.length} values but yPred has ${yPred.length}`);
  }
}

function safeDivide(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function mean(values: number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function supportWeightedMean(perClass: ClassMetrics[], score: (c: ClassMetrics) => number): number {
  let weighted = 0;
  let totalSupport = 0;
  for (const c of perClass) {
    weighted += score(c) * c.support;
    totalSupport += c.support;
  }
  return safeDivide(weighted, totalSupport);
}
