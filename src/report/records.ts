// Byte streams cut into records without decoding them: the report looks at most rows only to count and classify
// them, and decodes the few it shows.

/** Node's Buffer view of a chunk (no copy), for its native indexOf. */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const QUOTE = 0x22;

/** Called once per record: `bytes[start, end)` is the record without its line ending. */
export type OnRecord = (bytes: Buffer, start: number, end: number) => void;

/**
 * Cuts a stream of chunks into records, one per line (`\n` or `\r\n`; empty lines are skipped). With `quoted`, a
 * newline inside a double-quoted CSV field does not end the record (RFC 4180: quotes inside a field are doubled, so
 * the parity of the quotes seen tells whether a newline is inside one). A record cut by a chunk boundary is carried
 * over to the next chunk; nothing else is kept.
 */
export class RecordSplitter {
  /** The start of a record cut by the previous chunk's end (a copy), and whether it ends inside quotes. */
  private carry: Buffer | null = null;
  private carryInQuotes = false;

  constructor(
    private readonly onRecord: OnRecord,
    private readonly quoted = false,
  ) {}

  push(chunk: Uint8Array): void {
    const bytes = asBuffer(chunk);
    let start = 0;
    let scan = 0;
    let inQuotes = this.carryInQuotes;
    let quote = this.quoted ? bytes.indexOf(QUOTE) : -1;
    for (;;) {
      const newline = bytes.indexOf(NEWLINE, scan);
      if (newline === -1) break;
      while (quote !== -1 && quote < newline) {
        inQuotes = !inQuotes;
        quote = bytes.indexOf(QUOTE, quote + 1);
      }
      scan = newline + 1;
      if (inQuotes) continue;
      if (this.carry) {
        // Only the record that crosses the boundary is copied; the chunk's other records are read in place.
        const record = Buffer.concat([this.carry, bytes.subarray(start, newline)]);
        this.carry = null;
        this.emit(record, 0, record.length);
      } else {
        this.emit(bytes, start, newline);
      }
      start = scan;
    }
    while (quote !== -1) {
      inQuotes = !inQuotes;
      quote = bytes.indexOf(QUOTE, quote + 1);
    }
    if (start < bytes.length) {
      const rest = bytes.subarray(start);
      this.carry = this.carry ? Buffer.concat([this.carry, rest]) : Buffer.from(rest);
    }
    this.carryInQuotes = this.carry !== null && inQuotes;
  }

  /** The last record, when the stream does not end with a newline. */
  end(): void {
    const rest = this.carry;
    this.carry = null;
    this.carryInQuotes = false;
    if (rest) this.emit(rest, 0, rest.length);
  }

  private emit(bytes: Buffer, start: number, end: number): void {
    if (end > start && bytes[end - 1] === CARRIAGE_RETURN) end -= 1;
    if (end > start) this.onRecord(bytes, start, end);
  }
}

/**
 * Little-endian float64 values from a stream of chunks (prepared/labels.f64), one call per value with its index.
 * A value cut by a chunk boundary is carried over.
 */
export class Float64Splitter {
  /** The first bytes of a value cut by the previous chunk's end. */
  private readonly scratch = Buffer.alloc(8);
  private carried = 0;
  private index = 0;

  constructor(private readonly onValue: (index: number, bytes: Buffer, offset: number) => void) {}

  /** Values seen so far. */
  get count(): number {
    return this.index;
  }

  push(chunk: Uint8Array): void {
    const bytes = asBuffer(chunk);
    let offset = 0;
    if (this.carried > 0) {
      const needed = 8 - this.carried;
      if (bytes.length < needed) {
        bytes.copy(this.scratch, this.carried);
        this.carried += bytes.length;
        return;
      }
      bytes.copy(this.scratch, this.carried, 0, needed);
      this.carried = 0;
      this.onValue(this.index++, this.scratch, 0);
      offset = needed;
    }
    const whole = offset + (bytes.length - offset - ((bytes.length - offset) % 8));
    for (; offset < whole; offset += 8) this.onValue(this.index++, bytes, offset);
    if (whole < bytes.length) {
      bytes.copy(this.scratch, 0, whole);
      this.carried = bytes.length - whole;
    }
  }

  /** The number of bytes left over that do not make a whole value (0 for a well-formed stream). */
  end(): number {
    const left = this.carried;
    this.carried = 0;
    return left;
  }
}
