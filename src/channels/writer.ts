// The one streaming writer of training channels: any set of channels (held-out, training, folds, shards) from one
// pass over the source rows, with bounded memory. Rows a channel takes in file order stream straight to S3; rows it
// takes in another order (a shuffle) go through buckets of output positions in temporary files, one bucket in
// memory at a time.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ObjectWriter } from '../aws/objectWriter';
import { ChannelPlanError, orderedLayout, positionsPerBucket, shardBounds, type ChannelSpec } from './plan';

export type { ChannelSpec } from './plan';

export interface ChannelSource {
  rowCount: number;
  /** The rows in file order, in batches; each row is one line without its line end. */
  lines: AsyncIterable<string[]>;
  /** About how many bytes the rows take, line ends included: sizes the buckets. */
  bytes: number;
}

export interface WrittenChannel {
  name: string;
  keys: string[];
  rows: number;
  bytes: number;
}

export interface ChannelSetOptions {
  /** Text of one bucket held in memory while it is put in order (default 48 MiB). */
  bucketBytes?: number;
  /** Where the buckets are kept between the two passes (default: the OS temporary directory, Lambda's /tmp). */
  temporaryDirectory?: string;
  contentType?: string;
}

const DEFAULT_BUCKET_BYTES = 48 * 1024 * 1024;
/** Text gathered before a write: large enough to amortise the calls, small beside the part buffers. */
const FLUSH_CHARS = 1 << 20;

/** Writes every channel of the set under `bucket` and returns what each holds. Nothing is left half-written. */
export async function writeChannelSet(
  bucket: string,
  source: ChannelSource,
  channels: ChannelSpec[],
  options: ChannelSetOptions = {},
): Promise<WrittenChannel[]> {
  const contentType = options.contentType ?? 'text/csv';
  const sinks = channels.map((channel) => new ChannelSink(bucket, channel, contentType, countRows(channel, source)));
  const layout = orderedLayout(source.rowCount, channels);
  const perBucket = positionsPerBucket(
    layout.size,
    source.bytes / Math.max(source.rowCount, 1),
    options.bucketBytes ?? DEFAULT_BUCKET_BYTES,
  );
  const buckets =
    layout.size === 0
      ? new MemoryBuckets(0)
      : layout.size <= perBucket
        ? new MemoryBuckets(layout.size)
        : new FileBuckets(layout.size, perBucket, options.temporaryDirectory ?? tmpdir());
  try {
    const filters = channels.flatMap((channel, index) =>
      typeof channel.rows === 'function' ? [{ keep: channel.rows, sink: sinks[index] }] : [],
    );
    let row = 0;
    for await (const batch of source.lines) {
      for (const line of batch) {
        if (row >= source.rowCount) throw new ChannelPlanError(`the source has more than ${source.rowCount} rows`);
        for (let i = layout.firstPosition[row]; i < layout.firstPosition[row + 1]; i++) {
          buckets.put(layout.positions[i], line);
        }
        for (const { keep, sink } of filters) {
          if (keep(row)) {
            const flushing = sink.add(line);
            if (flushing) await flushing;
          }
        }
        row++;
      }
    }
    if (row !== source.rowCount) throw new ChannelPlanError(`the source has ${row} rows, expected ${source.rowCount}`);
    for (const { sink } of filters) await sink.finish();

    let ordinal = 0;
    let position = 0;
    for (const lines of buckets.inOrder()) {
      for (const line of lines) {
        while (position >= layout.channelStarts[ordinal + 1]) {
          await sinks[layout.channelIndices[ordinal]].finish();
          ordinal++;
        }
        const flushing = sinks[layout.channelIndices[ordinal]].add(line);
        if (flushing) await flushing;
        position++;
      }
    }
    // Trailing ordered channels (and empty ones) are completed too.
    for (; ordinal < layout.channelIndices.length; ordinal++) await sinks[layout.channelIndices[ordinal]].finish();
    return sinks.map((sink) => sink.result());
  } catch (error) {
    await Promise.all(sinks.map((sink) => sink.abort()));
    throw error;
  } finally {
    buckets.dispose();
  }
}

function countRows(channel: ChannelSpec, source: ChannelSource): number {
  if (typeof channel.rows !== 'function') return channel.rows.length;
  let count = 0;
  for (let row = 0; row < source.rowCount; row++) if (channel.rows(row)) count++;
  return count;
}

/** One channel's objects, written shard after shard as its rows arrive in channel order. */
class ChannelSink {
  private readonly bounds: number[];
  private shard = -1;
  private writer: ObjectWriter | undefined;
  private buffer = '';
  private rank = 0;
  private bytes = 0;
  private finished = false;

  constructor(
    private readonly bucket: string,
    private readonly channel: ChannelSpec,
    private readonly contentType: string,
    private readonly rowCount: number,
  ) {
    this.bounds = shardBounds(rowCount, channel.keys.length);
  }

  /** Takes the next row; returns a promise only when it writes (so the hot path never awaits). */
  add(line: string): Promise<void> | undefined {
    if (this.shard === -1 || this.rank === this.bounds[this.shard + 1])
      return this.advance().then(() => this.addNow(line));
    return this.addNow(line);
  }

  /** Moves to the shard the next row belongs in; shards it passes over are left as empty objects. */
  private async advance(): Promise<void> {
    do await this.nextShard();
    while (this.rank === this.bounds[this.shard + 1]);
  }

  private addNow(line: string): Promise<void> | undefined {
    this.buffer += `${line}\n`;
    this.rank++;
    return this.buffer.length >= FLUSH_CHARS ? this.flush() : undefined;
  }

  private async flush(): Promise<void> {
    const text = this.buffer;
    this.buffer = '';
    await this.writer!.write(text);
  }

  /** Completes the current shard and opens the next: an empty shard is still an (empty) object. */
  private async nextShard(): Promise<void> {
    if (this.writer) await this.closeShard();
    this.shard++;
    const ref = { bucket: this.bucket, key: this.channel.keys[this.shard] };
    this.writer = new ObjectWriter(ref, { contentType: this.contentType });
  }

  private async closeShard(): Promise<void> {
    await this.flush();
    this.bytes += (await this.writer!.close()).bytes;
    this.writer = undefined;
  }

  async finish(): Promise<void> {
    if (this.finished) return;
    if (this.rank !== this.rowCount) {
      throw new ChannelPlanError(`channel ${this.channel.name} got ${this.rank} rows, expected ${this.rowCount}`);
    }
    while (this.shard < this.channel.keys.length - 1) await this.nextShard();
    if (this.writer) await this.closeShard();
    this.finished = true;
  }

  async abort(): Promise<void> {
    await this.writer?.abort();
    this.writer = undefined;
  }

  result(): WrittenChannel {
    return { name: this.channel.name, keys: this.channel.keys, rows: this.rowCount, bytes: this.bytes };
  }
}

interface Buckets {
  put(position: number, line: string): void;
  /** The lines in output position order, a bucket at a time. */
  inOrder(): Iterable<string[]>;
  dispose(): void;
}

/** Everything fits one bucket: the output is put in order in memory. */
class MemoryBuckets implements Buckets {
  private readonly lines: string[];
  constructor(size: number) {
    this.lines = new Array<string>(size);
  }
  put(position: number, line: string): void {
    this.lines[position] = line;
  }
  *inOrder(): Iterable<string[]> {
    yield this.lines;
  }
  dispose(): void {}
}

/**
 * Buckets of consecutive output positions in temporary files. Lines arrive in file order; each bucket remembers,
 * for its i-th arrival, the slot it fills, so the second pass reads one file and writes its lines in order.
 */
class FileBuckets implements Buckets {
  private readonly directory: string;
  private readonly files: number[];
  private readonly pending: string[];
  private readonly arrivals: Int32Array;
  private readonly slotOfArrival: Int32Array;

  constructor(
    private readonly size: number,
    private readonly perBucket: number,
    parent: string,
  ) {
    const count = Math.ceil(size / perBucket);
    this.directory = mkdtempSync(path.join(parent, 'channels-'));
    this.files = Array.from({ length: count }, (_, b) => openSync(this.file(b), 'w'));
    this.pending = new Array<string>(count).fill('');
    this.arrivals = new Int32Array(count);
    this.slotOfArrival = new Int32Array(size);
  }

  private file(bucket: number): string {
    return path.join(this.directory, `bucket-${bucket}.txt`);
  }

  put(position: number, line: string): void {
    const bucket = Math.floor(position / this.perBucket);
    const base = bucket * this.perBucket;
    this.slotOfArrival[base + this.arrivals[bucket]++] = position - base;
    const text = (this.pending[bucket] += `${line}\n`);
    if (text.length >= FLUSH_CHARS) {
      writeSync(this.files[bucket], text);
      this.pending[bucket] = '';
    }
  }

  *inOrder(): Iterable<string[]> {
    this.files.forEach((fd, bucket) => {
      writeSync(fd, this.pending[bucket]);
      this.pending[bucket] = '';
      closeSync(fd);
    });
    this.files.length = 0;
    for (let bucket = 0; bucket * this.perBucket < this.size; bucket++) {
      const base = bucket * this.perBucket;
      const length = Math.min(this.perBucket, this.size - base);
      const text = readFileSync(this.file(bucket), 'utf8');
      rmSync(this.file(bucket));
      const placed = new Array<string>(length);
      let start = 0;
      for (let arrival = 0; arrival < length; arrival++) {
        const end = text.indexOf('\n', start);
        placed[this.slotOfArrival[base + arrival]] = text.slice(start, end);
        start = end + 1;
      }
      yield placed;
    }
  }

  dispose(): void {
    for (const fd of this.files) closeSync(fd);
    rmSync(this.directory, { recursive: true, force: true });
  }
}
