// Where each source row goes when a set of channels is written in one pass: pure arithmetic over row numbers.
import { PipelineError } from '../errors';

export class ChannelPlanError extends PipelineError {
  override name = 'ChannelPlanError';
}

/** One channel: its rows, and the object keys they are written to. */
export interface ChannelSpec {
  /** A name for messages and results (e.g. "train", "fold-2/test"). */
  name: string;
  /** The channel's objects: its rows cut into consecutive, near-equal shards, one per key (one key: no sharding). */
  keys: string[];
  /**
   * Which rows, in which order: row numbers in any order (a row may appear in several channels), or a predicate
   * that keeps rows in file order.
   */
  rows: Int32Array | ((row: number) => boolean);
  /** Rewrites each row as it is written (a feature transform); absent, rows are copied as bytes. */
  transformRow?: (bytes: Buffer, start: number, end: number) => Buffer;
}

/** Rows that start each shard, plus the total: shard s holds [bounds[s], bounds[s + 1]) (numpy.array_split sizes). */
export function shardBounds(rowCount: number, shards: number): number[] {
  if (!Number.isInteger(shards) || shards < 1) throw new ChannelPlanError(`shards must be at least 1, got ${shards}`);
  const base = Math.floor(rowCount / shards);
  const larger = rowCount % shards;
  const bounds = [0];
  for (let s = 0; s < shards; s++) bounds.push(bounds[s] + base + (s < larger ? 1 : 0));
  return bounds;
}

/** The shard holding the rank-th row of a channel (bounds from shardBounds). */
export function shardOf(bounds: number[], rank: number): number {
  let shard = 0;
  while (rank >= bounds[shard + 1]) shard++;
  return shard;
}

/**
 * The ordered channels laid end to end as one sequence of output positions, and for each source row the positions
 * it fills (compressed sparse rows): `positions[firstPosition[row] .. firstPosition[row + 1])`.
 */
export interface OrderedLayout {
  /** Output positions in all: the sum of the ordered channels' lengths. */
  size: number;
  /** Where each ordered channel starts in the output sequence, plus the total at the end. */
  channelStarts: number[];
  /** Index into `channels` of each ordered channel. */
  channelIndices: number[];
  firstPosition: Int32Array;
  positions: Int32Array;
}

export function orderedLayout(rowCount: number, channels: ChannelSpec[]): OrderedLayout {
  const channelIndices: number[] = [];
  const channelStarts = [0];
  channels.forEach((channel, index) => {
    if (typeof channel.rows === 'function') return;
    channelIndices.push(index);
    channelStarts.push(channelStarts[channelStarts.length - 1] + channel.rows.length);
  });
  const size = channelStarts[channelStarts.length - 1];
  if (size > 0x7fffffff) throw new ChannelPlanError(`${size} output rows exceed 2**31 - 1`);
  const firstPosition = new Int32Array(rowCount + 1);
  for (const index of channelIndices) {
    const { rows, name } = channels[index] as { rows: Int32Array; name: string };
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      if (!(row >= 0 && row < rowCount)) {
        throw new ChannelPlanError(`channel ${name}: row ${row} is outside 0..${rowCount - 1}`);
      }
      firstPosition[row + 1]++;
    }
  }
  for (let row = 0; row < rowCount; row++) firstPosition[row + 1] += firstPosition[row];
  const positions = new Int32Array(size);
  const filled = firstPosition.slice(0, rowCount);
  channelIndices.forEach((index, ordinal) => {
    const rows = channels[index].rows as Int32Array;
    const start = channelStarts[ordinal];
    for (let k = 0; k < rows.length; k++) positions[filled[rows[k]]++] = start + k;
  });
  return { size, channelStarts, channelIndices, firstPosition, positions };
}

/** Output positions per bucket so one bucket's lines fit the memory budget; the lines are about `bytesPerRow` long. */
export function positionsPerBucket(size: number, bytesPerRow: number, bucketBytes: number): number {
  return Math.max(1, Math.min(size, Math.floor(bucketBytes / Math.max(bytesPerRow, 1))));
}
