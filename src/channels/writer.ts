// The one streaming writer of training channels: any set of channels (held-out, training, folds, shards) from one
// pass over the source rows, with bounded memory. Rows a channel takes in file order stream straight to S3; rows it
// takes in another order (a shuffle) go through buckets of output positions (in temporary files when they do not
// fit one bucket), one bucket in memory at a time. Rows are moved as bytes: no JavaScript string per row.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ObjectWriter } from '../aws/objectWriter';
import { ChannelPlanError, orderedLayout, positionsPerBucket, shardBounds, type ChannelSpec } from './plan';

export type { ChannelSpec } from './plan';

export interface ChannelSource {
  rowCount: number;
  /** The rows in file order as UTF-8 bytes, in blocks of whole rows, each row ending with "\n". */
  blocks: AsyncIterable<Buffer>;
  /** About how many bytes the rows take: sizes the buckets. */
  bytes: number;
}

export interface WrittenChannel {
  name: string;
  keys: string[];
  rows: number;
  bytes: number;
}

export interface ChannelSetOptions {
  /** Rows of one bucket held in memory while it is put in order, in bytes (default 48 MiB). */
  bucketBytes?: number;
  /** Where the buckets are kept between the two passes (default: the OS temporary directory, Lambda's /tmp). */
  temporaryDirectory?: string;
  contentType?: string;
}

const DEFAULT_BUCKET_BYTES = 48 * 1024 * 1024;
/** Bytes gathered before a write: large enough to amortise the calls, small beside the part buffers. */
const FLUSH_BYTES = 1 << 20;
const NEWLINE = 0x0a;

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
  const buckets = new Buckets(layout.size, perBucket, options.temporaryDirectory ?? tmpdir());
  try {
    const filters = channels.flatMap((channel, index) =>
      typeof channel.rows === 'function' ? [{ keep: channel.rows, sink: sinks[index] }] : [],
    );
    let row = 0;
    for await (const block of source.blocks) {
      for (let start = 0; start < block.length;) {
        const end = block.indexOf(NEWLINE, start) + 1;
        if (end === 0) throw new ChannelPlanError(`row ${row + 1} of the source does not end with a line break`);
        if (row >= source.rowCount) throw new ChannelPlanError(`the source has more than ${source.rowCount} rows`);
        for (let i = layout.firstPosition[row]; i < layout.firstPosition[row + 1]; i++) {
          buckets.put(layout.positions[i], block, start, end);
        }
        for (const { keep, sink } of filters) {
          if (keep(row)) {
            const flushing = sink.add(block, start, end);
            if (flushing) await flushing;
          }
        }
        row++;
        start = end;
      }
    }
    if (row !== source.rowCount) throw new ChannelPlanError(`the source has ${row} rows, expected ${source.rowCount}`);
    for (const { sink } of filters) await sink.finish();

    let ordinal = 0;
    let position = 0;
    for (const lines of buckets.inOrder()) {
      for (let slot = 0; slot < lines.count; slot++) {
        while (position >= layout.channelStarts[ordinal + 1]) {
          await sinks[layout.channelIndices[ordinal]].finish();
          ordinal++;
        }
        const flushing = sinks[layout.channelIndices[ordinal]].add(lines.bytes, lines.start(slot), lines.end(slot));
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

/** Bytes gathered into blocks of FLUSH_BYTES; a full block is handed over whole and a fresh one started. */
class ByteBlock {
  private block = Buffer.allocUnsafe(FLUSH_BYTES);
  private used = 0;

  /** Copies bytes[start, end) in, handing each block it fills to `full`. */
  append(bytes: Buffer, start: number, end: number, full: (block: Buffer) => void): void {
    while (start < end) {
      const taken = bytes.copy(this.block, this.used, start, end);
      this.used += taken;
      start += taken;
      if (this.used === this.block.length) full(this.take());
    }
  }

  /** The bytes gathered so far; the block starts again empty. */
  take(): Buffer {
    const taken = this.block.subarray(0, this.used);
    this.block = Buffer.allocUnsafe(FLUSH_BYTES);
    this.used = 0;
    return taken;
  }
}

/** One channel's objects, written shard after shard as its rows arrive in channel order. */
class ChannelSink {
  private readonly bounds: number[];
  private shard = -1;
  private writer: ObjectWriter | undefined;
  private readonly pending = new ByteBlock();
  private readonly full: Buffer[] = [];
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
  add(bytes: Buffer, start: number, end: number): Promise<void> | undefined {
    const transformRow = this.channel.transformRow;
    if (transformRow !== undefined) {
      bytes = transformRow(bytes, start, end);
      start = 0;
      end = bytes.length;
    }
    if (this.shard === -1 || this.rank === this.bounds[this.shard + 1]) {
      return this.advance().then(() => this.addNow(bytes, start, end));
    }
    return this.addNow(bytes, start, end);
  }

  /** Moves to the shard the next row belongs in; shards it passes over are left as empty objects. */
  private async advance(): Promise<void> {
    do await this.nextShard();
    while (this.rank === this.bounds[this.shard + 1]);
  }

  private addNow(bytes: Buffer, start: number, end: number): Promise<void> | undefined {
    this.pending.append(bytes, start, end, (block) => this.full.push(block));
    this.rank++;
    return this.full.length > 0 ? this.flushFull() : undefined;
  }

  private async flushFull(): Promise<void> {
    for (const block of this.full.splice(0)) await this.writer!.write(block);
  }

  /** Completes the current shard and opens the next: an empty shard is still an (empty) object. */
  private async nextShard(): Promise<void> {
    if (this.writer) await this.closeShard();
    this.shard++;
    const ref = { bucket: this.bucket, key: this.channel.keys[this.shard] };
    this.writer = new ObjectWriter(ref, { contentType: this.contentType });
  }

  private async closeShard(): Promise<void> {
    await this.flushFull();
    await this.writer!.write(this.pending.take());
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

/** One bucket's rows put in output order: row `slot` is `bytes[start(slot), end(slot))`, "\n" included. */
interface OrderedLines {
  count: number;
  bytes: Buffer;
  start(slot: number): number;
  end(slot: number): number;
}

/**
 * Buckets of consecutive output positions. Rows arrive in file order; each bucket keeps their bytes (in memory when
 * there is a single bucket, else in a temporary file) and, for its i-th arrival, the slot it fills, so the second
 * pass reads one bucket and gives its rows in order.
 */
class Buckets {
  private readonly count: number;
  private directory: string | undefined;
  private readonly files: number[] = [];
  private readonly pending: ByteBlock[];
  /** One bucket only: its bytes stay in memory. */
  private readonly kept: Buffer[][];
  private readonly arrivals: Int32Array;
  private readonly slotOfArrival: Int32Array;

  constructor(
    private readonly size: number,
    private readonly perBucket: number,
    parent: string,
  ) {
    this.count = Math.ceil(size / perBucket);
    if (this.count > 1) {
      this.directory = mkdtempSync(path.join(parent, 'channels-'));
      for (let bucket = 0; bucket < this.count; bucket++) this.files.push(openSync(this.file(bucket), 'w'));
    }
    this.pending = Array.from({ length: this.count }, () => new ByteBlock());
    this.kept = Array.from({ length: this.count }, () => []);
    this.arrivals = new Int32Array(this.count);
    this.slotOfArrival = new Int32Array(size);
  }

  private file(bucket: number): string {
    return path.join(this.directory!, `bucket-${bucket}`);
  }

  put(position: number, bytes: Buffer, start: number, end: number): void {
    const bucket = Math.floor(position / this.perBucket);
    const base = bucket * this.perBucket;
    this.slotOfArrival[base + this.arrivals[bucket]++] = position - base;
    this.pending[bucket].append(bytes, start, end, (block) => this.store(bucket, block));
  }

  private store(bucket: number, block: Buffer): void {
    if (this.directory === undefined) this.kept[bucket].push(block);
    else writeSync(this.files[bucket], block);
  }

  *inOrder(): Iterable<OrderedLines> {
    for (let bucket = 0; bucket < this.count; bucket++) this.store(bucket, this.pending[bucket].take());
    for (const fd of this.files.splice(0)) closeSync(fd);
    for (let bucket = 0; bucket < this.count; bucket++) {
      const base = bucket * this.perBucket;
      const count = Math.min(this.perBucket, this.size - base);
      let bytes: Buffer;
      if (this.directory === undefined) {
        bytes = Buffer.concat(this.kept[bucket]);
        this.kept[bucket] = [];
      } else {
        bytes = readFileSync(this.file(bucket));
        rmSync(this.file(bucket));
      }
      // Row starts in arrival order, then the arrival that fills each slot.
      const starts = new Int32Array(count + 1);
      for (let arrival = 0, at = 0; arrival < count; arrival++) {
        starts[arrival] = at;
        at = bytes.indexOf(NEWLINE, at) + 1;
        starts[arrival + 1] = at;
      }
      const arrivalOfSlot = new Int32Array(count);
      for (let arrival = 0; arrival < count; arrival++) arrivalOfSlot[this.slotOfArrival[base + arrival]] = arrival;
      yield {
        count,
        bytes,
        start: (slot) => starts[arrivalOfSlot[slot]],
        end: (slot) => starts[arrivalOfSlot[slot] + 1],
      };
    }
  }

  dispose(): void {
    for (const fd of this.files.splice(0)) closeSync(fd);
    if (this.directory !== undefined) rmSync(this.directory, { recursive: true, force: true });
  }
}
