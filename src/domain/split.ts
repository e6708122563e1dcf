// Train/test and k-fold splits that choose exactly the rows scikit-learn chooses for the same seed.
import { PipelineError } from '../errors';
import { permutation } from './random';

export interface SplitOptions {
  testFraction: number;
  seed: number;
}

export interface SplitSizes {
  testRows: number;
  trainRows: number;
}

/** A train/test split as row numbers into the prepared dataset, in channel order. */
export interface TrainTestRows {
  /** The held-out rows, in train_test_split's order. */
  test: Int32Array;
  /** The training rows, in train_test_split's order. */
  train: Int32Array;
}

export interface SplitIndices {
  train: number[];
  test: number[];
}

export class SplitError extends PipelineError {
  override name = 'SplitError';
}

/** How many rows `train_test_split(test_size=f)` holds out (ceil) and trains on, or why the split is impossible. */
export function splitSizes(rowCount: number, testFraction: number): SplitSizes {
  requireRowCount(rowCount);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new SplitError(`testFraction must be strictly between 0 and 1, got ${testFraction}`);
  }
  const testRows = Math.ceil(testFraction * rowCount);
  const trainRows = rowCount - testRows;
  if (trainRows < 1) {
    throw new SplitError(
      `a test fraction of ${testFraction} of ${rowCount} rows leaves no training row; at least one training and one test row are needed`,
    );
  }
  return { testRows, trainRows };
}

/**
 * Same rows, same order as `train_test_split(range(n), test_size=f, shuffle=True, random_state=seed)`: the first
 * testRows of numpy's permutation are the test rows, the rest the training rows. Both are views of one Int32Array.
 */
export function trainTestRows(rowCount: number, options: SplitOptions): TrainTestRows {
  const { testRows } = splitSizes(rowCount, options.testFraction);
  const shuffled = permutation(rowCount, options.seed);
  return { test: shuffled.subarray(0, testRows), train: shuffled.subarray(testRows) };
}

/** The tuning jobs' rows: the validation split they are scored on, and the training rows they index. */
export interface TuningRows {
  /** The tuning jobs' test channel. */
  validation: Int32Array;
  /** The tuning jobs' train channel. */
  train: Int32Array;
}

/**
 * The validation split of the training rows, `train_test_split(training rows in channel order,
 * test_size=validationFraction, shuffle=True, random_state=seed)`: the first ceil(f·n) of numpy's permutation of the
 * n training rows are validation rows, the rest the tuning jobs' training rows, both in that order. The held-out
 * test rows are never among them.
 */
export function tuningRows(trainRows: Int32Array, validationFraction: number, seed: number): TuningRows {
  const sizes = splitSizes(trainRows.length, validationFraction);
  const shuffled = permutation(trainRows.length, seed);
  const pick = (from: number, to: number) => Int32Array.from(shuffled.subarray(from, to), (i) => trainRows[i]);
  return { validation: pick(0, sizes.testRows), train: pick(sizes.testRows, trainRows.length) };
}

/** How many training rows the tuning jobs train on and are scored on, or why the validation split is impossible. */
export function tuningSizes(
  trainRows: number,
  validationFraction: number,
): { trainRows: number; validationRows: number } {
  try {
    const sizes = splitSizes(trainRows, validationFraction);
    return { trainRows: sizes.trainRows, validationRows: sizes.testRows };
  } catch (error) {
    throw new SplitError(
      `tuning needs a validation split of the ${trainRows} training rows (tuning.validationFraction ${validationFraction}): ${(error as Error).message}`,
    );
  }
}

/** trainTestRows as plain arrays, for small data and tests. */
export function trainTestSplit(rowCount: number, options: SplitOptions): SplitIndices {
  const rows = trainTestRows(rowCount, options);
  return { test: Array.from(rows.test), train: Array.from(rows.train) };
}

/**
 * The fold (0-based) each row is held out in by `KFold(n_splits=folds, shuffle=True, random_state=seed)`: fold f
 * tests its rows and trains on all others, both in ascending row order (sklearn turns each fold into a mask).
 */
export function foldOfRows(rowCount: number, folds: number, seed: number): Int32Array {
  requireFolds(rowCount, folds);
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
  return foldOfRow;
}

/** Rows held out by each fold: KFold's sizes, the first rowCount % folds folds one row larger. */
export function foldSizes(rowCount: number, folds: number): SplitSizes[] {
  requireFolds(rowCount, folds);
  const baseSize = Math.floor(rowCount / folds);
  return Array.from({ length: folds }, (_, fold) => {
    const testRows = baseSize + (fold < rowCount % folds ? 1 : 0);
    return { testRows, trainRows: rowCount - testRows };
  });
}

/** The folds of `KFold(n_splits=folds, shuffle=True, random_state=seed).split(range(n))`, index lists ascending. */
export function kFold(rowCount: number, folds: number, seed: number): SplitIndices[] {
  const foldOfRow = foldOfRows(rowCount, folds, seed);
  const splits: SplitIndices[] = Array.from({ length: folds }, () => ({ train: [], test: [] }));
  for (let row = 0; row < rowCount; row++) {
    const ownFold = foldOfRow[row];
    for (let fold = 0; fold < folds; fold++) {
      (fold === ownFold ? splits[fold].test : splits[fold].train).push(row);
    }
  }
  return splits;
}

/**
 * Sharded training gives each host one shard of the training rows (ShardedByS3Key); a host without rows would be
 * billed for nothing, so every training set (the final one and each fold's) needs a row per host.
 */
export function requireRowsPerHost(
  hosts: number,
  split: SplitSizes,
  folds: SplitSizes[] = [],
  tuning?: { trainRows: number },
): void {
  const sets: [string, number][] = [
    ['the training set', split.trainRows],
    ...folds.map((fold): [string, number] => ['a fold', fold.trainRows]),
    ...(tuning ? [["the tuning jobs' training set", tuning.trainRows] as [string, number]] : []),
  ];
  const [which, smallest] = sets.reduce((a, b) => (b[1] < a[1] ? b : a));
  if (hosts > 1 && smallest < hosts) {
    throw new SplitError(
      `training.instanceCount is ${hosts} but ${which} has ${smallest} training rows: each host needs at least one row of its own. Use fewer instances.`,
    );
  }
}

function requireFolds(rowCount: number, folds: number): void {
  requireRowCount(rowCount);
  if (!Number.isInteger(folds) || folds < 2)
    throw new SplitError(`folds must be an integer of at least 2, got ${folds}`);
  if (folds > rowCount)
    throw new SplitError(`cannot split ${rowCount} rows into ${folds} folds: each fold needs a row`);
}

function requireRowCount(rowCount: number): void {
  if (!Number.isInteger(rowCount) || rowCount < 2) {
    throw new SplitError(`at least 2 rows are needed to split, got ${rowCount}`);
  }
}
