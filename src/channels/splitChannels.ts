// The channels a split defines: the held-out and training rows in train_test_split's order, and each fold's rows in
// file order (KFold's), as specs for the channel-set writer.
import type { Split } from '../artifacts';
import { foldOfRows, trainTestRows, tuningRows } from '../domain/split';
import type { ChannelSpec } from './plan';

export interface SplitChannelKeys {
  test: string;
  /** The train channel's objects: one per training host. */
  train: string[];
  /** Per fold (1-based order): its test object and train objects. */
  folds: { test: string; train: string[] }[];
  /** Tuning on: the tuning jobs' train objects (one per host) and their test channel, the validation split. */
  tuning?: { train: string[]; validation: string };
}

/** The tuning jobs' channels (one group: both come from the training rows only). */
export const TUNING_TRAIN_CHANNEL = 'tuning/train';
export const TUNING_VALIDATION_CHANNEL = 'tuning/validation';

/** Specs in a fixed order: test, train, fold 1 test, fold 1 train, fold 2 test, …, tuning/train, tuning/validation. */
export function splitChannels(split: Split, keys: SplitChannelKeys): ChannelSpec[] {
  const rows = trainTestRows(split.rowCount, split);
  const channels: ChannelSpec[] = [
    { name: 'test', keys: [keys.test], rows: rows.test },
    { name: 'train', keys: keys.train, rows: rows.train },
  ];
  const foldCount = split.folds?.length ?? 0;
  if (foldCount !== keys.folds.length) {
    throw new RangeError(`the split has ${foldCount} folds but keys were given for ${keys.folds.length}`);
  }
  if (foldCount > 0) {
    const foldOfRow = foldOfRows(split.rowCount, foldCount, split.seed);
    keys.folds.forEach((fold, index) =>
      channels.push(
        { name: `fold-${index + 1}/test`, keys: [fold.test], rows: (row) => foldOfRow[row] === index },
        { name: `fold-${index + 1}/train`, keys: fold.train, rows: (row) => foldOfRow[row] !== index },
      ),
    );
  }
  if (Boolean(split.tuning) !== Boolean(keys.tuning))
    throw new RangeError(
      `the split ${split.tuning ? 'has' : 'has no'} tuning rows but keys were ${keys.tuning ? '' : 'not '}given`,
    );
  if (split.tuning && keys.tuning) {
    // The validation split is drawn from the training rows only: no held-out test row reaches a tuning job.
    const tuning = tuningRows(rows.train, split.tuning.validationFraction, split.seed);
    channels.push(
      { name: TUNING_TRAIN_CHANNEL, keys: keys.tuning.train, rows: tuning.train },
      { name: TUNING_VALIDATION_CHANNEL, keys: [keys.tuning.validation], rows: tuning.validation },
    );
  }
  return channels;
}
