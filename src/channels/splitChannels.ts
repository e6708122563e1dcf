// The channels a split defines: the held-out and training rows in train_test_split's order, and each fold's rows in
// file order (KFold's), as specs for the channel-set writer.
import type { Split } from '../artifacts';
import { foldOfRows, trainTestRows } from '../domain/split';
import type { ChannelSpec } from './plan';

export interface SplitChannelKeys {
  test: string;
  /** The train channel's objects: one per training host. */
  train: string[];
  /** Per fold (1-based order): its test object and train objects. */
  folds: { test: string; train: string[] }[];
}

/** Specs in a fixed order: test, train, then fold 1 test, fold 1 train, fold 2 test, … */
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
  if (foldCount === 0) return channels;
  const foldOfRow = foldOfRows(split.rowCount, foldCount, split.seed);
  keys.folds.forEach((fold, index) =>
    channels.push(
      { name: `fold-${index + 1}/test`, keys: [fold.test], rows: (row) => foldOfRow[row] === index },
      { name: `fold-${index + 1}/train`, keys: fold.train, rows: (row) => foldOfRow[row] !== index },
    ),
  );
  return channels;
}
