// Train/test and k-fold splits that choose exactly the rows scikit-learn chooses for the same seed.
import { PipelineError } from '../errors';
import { permutation } from './random';

export interface SplitOptions {
  testFraction: number;
  seed: number;
}

export interface SplitIndices {
  train: number[];
  test: number[];
}

export class SplitError extends PipelineError {
  override name = 'SplitError';
}

/** Same rows, same order as `train_test_split(range(n), test_size=f, shuffle=True, random_state=seed)`. */
export function trainTestSplit(rowCount: number, options: SplitOptions): SplitIndices {
  const { testFraction, seed } = options;
  requireRowCount(rowCount);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new SplitError(`testFraction must be strictly between 0 and 1, got ${testFraction}`);
  }
  const testCount = Math.ceil(testFraction * rowCount);
  const trainCount = rowCount - testCount;
  if (trainCount < 1) {
    throw new SplitError(
      `a test fraction of ${testFraction} of ${rowCount} rows leaves no training row; at least one training and one test row are needed`,
    );
  }
  const shuffled = permutation(rowCount, seed);
  return { test: shuffled.slice(0, testCount), train: shuffled.slice(testCount, testCount + trainCount) };
}

/** The folds of `KFold(n_splits=folds, shuffle=True, random_state=seed).split(range(n))`, index lists ascending. */
export function kFold(rowCount: number, folds: number, seed: number): SplitIndices[] {
  requireRowCount(rowCount);
  if (!Number.isInteger(folds) || folds < 2)
    throw new SplitError(`folds must be an integer of at least 2, got ${folds}`);
  if (folds > rowCount)
    throw new SplitError(`cannot split ${rowCount} rows into ${folds} folds: each fold needs a row`);
  const shuffled = permutation(rowCount, seed);
  const baseSize = Math.floor(rowCount / folds);
  const largerFolds = rowCount % folds;
  const foldOfRow = new Int32Array(rowCount);
  let start = 0;
  for (let fold = 0; fold < folds; fold++) {
    const stop = start + baseSize + (fold < largerFolds ? 1 : 0);
    for (let k = start; k < stop; k++) foldOfRow[shuffled[k]] = fold;
    start = stop;
  }
  const splits: SplitIndices[] = Array.from({ length: folds }, () => ({ train: [], test: [] }));
  // sklearn turns each fold into a boolean mask, so both lists come out in ascending row order.
  for (let row = 0; row < rowCount; row++) {
    const ownFold = foldOfRow[row];
    for (let fold = 0; fold < folds; fold++) {
      (fold === ownFold ? splits[fold].test : splits[fold].train).push(row);
    }
  }
  return splits;
}

function requireRowCount(rowCount: number): void {
  if (!Number.isInteger(rowCount) || rowCount < 2) {
    throw new SplitError(`at least 2 rows are needed to split, got ${rowCount}`);
  }
}
