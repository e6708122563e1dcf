// Reads a user's CSV (header row, one label column) as it streams in: validates every row, says exactly which rows
// and cells are wrong, and hands back each row's features as the channels write them. Only compact state stays:
// one float64 label a row and the class names.
//
// The messages are those of the in-memory reader it replaced (csv-parse/sync over the whole decoded file, with
// trim, skip_empty_lines and relax_column_count), for any chunking of the bytes:
// - The file is checked the way it was decoded: a binary signature in the first bytes, then a NUL byte anywhere,
//   then the first byte that is not UTF-8. Each of these reports only itself, so an error found in the rows waits
//   until the rest of the file has been checked for them.
// - Lines end with "\n", "\r\n" or a lone "\r"; rows are numbered by physical line.
// - A line without a quote character is one record: its cells split at commas and trimmed like csv-parse trims
//   (String.prototype.trim's white space); a line that is only white space is skipped. The common case, plain
//   decimals, is read from the bytes without making a string per cell.
// - A row whose quotes only enclose whole cells on one line is read the same way. From any other line with a
//   quote character on, the lines go to csv-parse itself, told which line it starts at, until the quotes are
//   balanced at a line end (and at least 64 KiB went through it): quoted fields may span lines, and its
//   errors and their line numbers are its own.
import { isUtf8 } from 'node:buffer';
import { CsvError, Parser } from 'csv-parse';
import type { PredictorType } from '../artifacts/predictorType';
import {
  DatasetError,
  type DatasetProblem,
  DEFAULT_MAX_PROBLEMS,
  MAX_NAMES_LISTED,
  notANumberMessage,
  parseFiniteNumber,
  ProblemList,
  quote,
} from './datasetProblems';

export interface PrepareDatasetOptions {
  /** Where the data came from (an s3:// URI); every error message starts with it. */
  source: string;
  labelColumn: string;
  predictorType: PredictorType;
  /** How many problems the error lists before "... and N more problems" (default 20). */
  maxProblems?: number;
  /** Columns kept as text (one-hot encoded later), or "auto": every column with a value that is not a number. */
  categorical?: readonly string[] | 'auto';
  /** Columns left out of the prepared rows. */
  drop?: readonly string[];
}

export interface PreparedSummary {
  featureNames: string[];
  labelColumn: string;
  predictorType: PredictorType;
  /** Class names in label-index order for a classifier; null for a regressor. */
  classes: string[] | null;
  rowCount: number;
  warnings: string[];
  /** Each row's label in file order: the class index (LabelEncoder order), or the value for a regressor. */
  labels: Float64Array;
  /** Rows per class name, or null for a regressor. */
  classCounts: Record<string, number> | null;
  /** The feature columns kept as text (categorical), in column order. */
  categorical: string[];
  /** The columns left out (options.drop). */
  dropped: string[];
}

/**
 * Validates and encodes a raw CSV pushed in chunks of any size. Cells are trimmed; blank lines are ignored; every
 * problem in the file is counted and the first maxProblems are listed. Classes follow scikit-learn's LabelEncoder:
 * sorted numerically when every label is a number (labels with the same value, such as "1" and "1.0", are one
 * class named by its first spelling), otherwise sorted by Unicode code point.
 */
export class DatasetReader {
  private readonly source: string;
  private readonly rows: RowReader;
  /** The first bytes, held until the file's signature can be judged; null once it has been. */
  private head: Buffer | null = EMPTY;
  /** Bytes of the file scanned so far, and the "\n" bytes among them (the row of a NUL or non-UTF-8 byte). */
  private offset = 0;
  private lineFeeds = 0;
  /** The start of a UTF-8 sequence cut by the end of the last chunk, checked with the next chunk. */
  private carry: Buffer = EMPTY;
  /** Problems that wait for the rest of the file: bytes that are not UTF-8 come first, then the rows'. */
  private invalidUtf8: DatasetError | null = null;
  private rowsFailure: DatasetError | null = null;
  private failure: unknown = undefined;
  private finished = false;

  constructor(options: PrepareDatasetOptions) {
    this.source = options.source;
    this.rows = new RowReader(options);
  }

  /**
   * Feeds the next bytes of the raw object. Returns the prepared text of the rows completed by these bytes: for each
   * data row, its features as `String(Number(cell))` joined by ',' followed by '\n' (rows of a quoted stretch may
   * come out a push later, as csv-parse reads a few bytes ahead). Throws DatasetError at once when the file is not
   * a CSV text file (a binary signature, a NUL byte).
   */
  push(chunk: Uint8Array): string {
    return this.guard(() => {
      let bytes = asBuffer(chunk);
      if (this.head !== null) {
        this.head = Buffer.concat([this.head, bytes]);
        if (this.head.length < LONGEST_SIGNATURE) return '';
        bytes = this.judgeHead();
      }
      this.scan(bytes);
      return this.rows.takeText();
    });
  }

  /**
   * Ends the input: returns the rows of the last line and the summary, or throws DatasetError listing the problems
   * (the first maxProblems, then "... and N more problems").
   */
  finish(): { text: string; summary: PreparedSummary } {
    return this.guard(() => {
      if (this.head !== null) this.scan(this.judgeHead());
      this.finished = true;
      if (this.invalidUtf8 === null && this.carry.length > 0) {
        this.invalidUtf8 = this.utf8Error(this.carry, this.offset - this.carry.length, this.lineFeeds);
      }
      if (this.invalidUtf8 !== null) throw this.invalidUtf8;
      if (this.rowsFailure !== null) throw this.rowsFailure;
      const summary = this.rows.end();
      return { text: this.rows.takeText(), summary };
    });
  }

  private guard<T>(step: () => T): T {
    if (this.failure !== undefined) throw this.failure;
    if (this.finished) throw new Error('DatasetReader: the input has already ended');
    try {
      return step();
    } catch (error) {
      this.failure = error;
      throw error;
    }
  }

  private judgeHead(): Buffer {
    const head = this.head!;
    this.head = null;
    const signature = BINARY_SIGNATURES.find((s) => s.bytes.every((byte, i) => head[i] === byte));
    if (signature !== undefined) {
      throw this.fileError({ message: `does not look like a CSV text file: it starts like ${signature.description}` });
    }
    return head;
  }

  private scan(bytes: Buffer): void {
    const nul = bytes.indexOf(0);
    if (nul !== -1) {
      throw this.fileError({
        row: 1 + this.lineFeeds + countLineFeeds(bytes, 0, nul),
        message: `does not look like a CSV text file: it contains a NUL byte at byte offset ${this.offset + nul}`,
      });
    }
    const feedsBefore = this.lineFeeds;
    const dataOffset = this.offset - this.carry.length;
    this.offset += bytes.length;
    if (this.invalidUtf8 !== null) {
      this.lineFeeds += countLineFeeds(bytes, 0, bytes.length);
      return;
    }
    const data = this.carry.length === 0 ? bytes : Buffer.concat([this.carry, bytes]);
    const complete = completeUtf8Length(data);
    if (!isUtf8(data.subarray(0, complete))) {
      this.invalidUtf8 = this.utf8Error(data.subarray(0, complete), dataOffset, feedsBefore);
      this.carry = EMPTY;
      this.lineFeeds = feedsBefore + countLineFeeds(bytes, 0, bytes.length);
      return;
    }
    this.carry = complete === data.length ? EMPTY : Buffer.from(data.subarray(complete));
    if (this.rowsFailure === null) {
      // The decoder dropped a byte order mark at the start of the file.
      const start = dataOffset === 0 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
      try {
        this.rows.write(data, start, complete);
        this.lineFeeds = this.rows.lineFeeds;
        return;
      } catch (error) {
        if (!(error instanceof DatasetError)) throw error;
        this.rowsFailure = error;
      }
    }
    this.lineFeeds = feedsBefore + countLineFeeds(bytes, 0, bytes.length);
  }

  /** The first byte of `bytes` that is not UTF-8; they start at file offset `bytesOffset`, after `feedsBefore` "\n". */
  private utf8Error(bytes: Buffer, bytesOffset: number, feedsBefore: number): DatasetError {
    const at = firstInvalidUtf8Offset(bytes);
    if (at === -1) throw new Error('DatasetReader: isUtf8 and the UTF-8 scan disagree');
    let cause: unknown;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (error) {
      cause = error;
    }
    const offset = bytesOffset + at;
    const byte = bytes[at].toString(16).padStart(2, '0');
    return this.fileError(
      {
        row: 1 + feedsBefore + countLineFeeds(bytes, 0, at),
        message: `is not valid UTF-8: byte 0x${byte} at byte offset ${offset} cannot be decoded; save the file as UTF-8`,
      },
      cause,
    );
  }

  private fileError(problem: DatasetProblem, cause?: unknown): DatasetError {
    return new DatasetError(this.source, [problem], 1, cause === undefined ? undefined : { cause });
  }
}

/**
 * The same result for a whole text (a string, as `prepareDataset` accepts): a NUL character is named by its
 * character offset, a leading byte order mark is dropped.
 */
export function readDatasetText(
  raw: string,
  options: PrepareDatasetOptions,
): { text: string; summary: PreparedSummary } {
  const nul = raw.indexOf('\u0000');
  if (nul !== -1) {
    let row = 1;
    for (let at = raw.indexOf('\n'); at !== -1 && at < nul; at = raw.indexOf('\n', at + 1)) row++;
    const problem = {
      row,
      message: `does not look like a CSV text file: it contains a NUL character at character offset ${nul}`,
    };
    throw new DatasetError(options.source, [problem], 1);
  }
  const rows = new RowReader(options);
  const bytes = Buffer.from(raw.startsWith('\uFEFF') ? raw.slice(1) : raw, 'utf8');
  rows.write(bytes, 0, bytes.length);
  const text = rows.takeText();
  const summary = rows.end();
  return { text: text + rows.takeText(), summary };
}

const EMPTY = Buffer.alloc(0);

// Formats that users upload by mistake, recognisable from their first bytes.
const BINARY_SIGNATURES: Array<{ bytes: number[]; description: string }> = [
  { bytes: [0x1f, 0x8b], description: 'a gzip archive' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], description: 'a zip archive (or an Excel .xlsx workbook)' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], description: 'an Excel .xls workbook' },
  { bytes: [0x89, 0x50, 0x4e, 0x47], description: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], description: 'a JPEG image' },
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], description: 'a PDF document' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], description: 'an xz archive' },
  { bytes: [0x0a, 0x23, 0xd7, 0xce], description: 'SageMaker RecordIO-protobuf data' },
  { bytes: [0xff, 0xfe], description: 'UTF-16 text; save it as UTF-8' },
  { bytes: [0xfe, 0xff], description: 'UTF-16 text; save it as UTF-8' },
];
const LONGEST_SIGNATURE = Math.max(...BINARY_SIGNATURES.map((s) => s.bytes.length));

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function countLineFeeds(bytes: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let at = bytes.indexOf(LF, start); at !== -1 && at < end; at = bytes.indexOf(LF, at + 1)) count++;
  return count;
}

/** Where a UTF-8 sequence that the end of `bytes` cuts short starts (bytes.length when none is). */
function completeUtf8Length(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let back = 1; back <= 3 && back <= length; back++) {
    const byte = bytes[length - back];
    if (byte < 0x80) return length;
    if (byte >= 0xc0) {
      const sequenceLength = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return back < sequenceLength ? length - back : length;
    }
  }
  return length;
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (the rules TextDecoder applies), or -1. */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    let continuationCount: number;
    let secondMin = 0x80;
    let secondMax = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) continuationCount = 1;
    else if (lead >= 0xe0 && lead <= 0xef) {
      continuationCount = 2;
      if (lead === 0xe0) secondMin = 0xa0; // overlong
      if (lead === 0xed) secondMax = 0x9f; // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      continuationCount = 3;
      if (lead === 0xf0) secondMin = 0x90; // overlong
      if (lead === 0xf4) secondMax = 0x8f; // above U+10FFFF
    } else return i;
    if (i + continuationCount >= bytes.length) return i;
    if (bytes[i + 1] < secondMin || bytes[i + 1] > secondMax) return i;
    for (let k = 2; k <= continuationCount; k++) {
      if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return i;
    }
    i += continuationCount + 1;
  }
  return -1;
}

const TAB = 0x09;
const LF = 0x0a;
const VT = 0x0b;
const FF = 0x0c;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const PLUS = 0x2b;
const ZERO = 0x30;
const NINE = 0x39;
const UPPER_E = 0x45;
const LOWER_E = 0x65;
const DEL = 0x7f;

/** A decimal with at most this many significant digits reads back from its double as the same digits. */
const EXACT_DIGITS = 15;
/**
 * A quoted stretch goes on through csv-parse until this much went through it, so that a new parser pays off. No
 * result depends on it: tests set it to 0 so that stretches end at every line end outside quotes.
 */
export const quotedStretchTuning = { minBytes: 1 << 16 };
const QUOTED_FLUSH_BYTES = 1 << 16;
const OUTPUT_BYTES = 1 << 16;
const LABELS_MATCHED_AS_BYTES = 16;
const LABEL_BLOCK_LENGTH = 1 << 16;
/** csv-parse keeps the last few bytes it was given until more come (3: the longest white space in UTF-8). */
const PARSER_LOOKAHEAD_LINES = 16;

/** The options of the in-memory reader; the records' line numbers come from the parser's own count. */
const CSV_OPTIONS = { relax_column_count: true, skip_empty_lines: true, trim: true } as const;

/** csv-parse's own parser behind its stream: synchronous, and its line count can start at any line. */
interface CsvParserCore {
  info: { lines: number };
  parse(
    bytes: Buffer | undefined,
    end: boolean,
    push: (record: string[]) => void,
    close: () => void,
  ): Error | undefined;
}

function csvParserStartingAt(line: number): CsvParserCore {
  const core = (new Parser(CSV_OPTIONS) as unknown as { api?: CsvParserCore }).api;
  if (core === undefined || typeof core.parse !== 'function' || typeof core.info?.lines !== 'number') {
    throw new Error('csv-parse no longer exposes its parser core (Parser#api); the dataset reader needs it');
  }
  core.info.lines = line;
  return core;
}

interface QuotedStretch {
  parser: CsvParserCore;
  /** Quote characters fed so far, modulo 2: 0 means outside quotes at the last line end (unless csv-parse fails). */
  parity: number;
  bytes: number;
  pending: Buffer;
  pendingLength: number;
  /** Lines with more than white space that no record has ended on yet (the row of a quote never closed). */
  nonBlankLines: number[];
}

const noop = (): void => {};

/** The rows of validated UTF-8 bytes: splits lines, reads the header, checks and encodes each row. */
class RowReader {
  /** Physical lines ended so far, and the "\n" bytes among their ends. */
  line = 0;
  lineFeeds = 0;

  private readonly problems: ProblemList;
  private readonly labelColumn: string;
  private readonly predictorType: PredictorType;
  private readonly regressor: boolean;

  private columnNames: string[] | null = null;
  private labelIndex = -1;
  private lastColumn = -1;
  private readonly categoricalOption: readonly string[] | 'auto';
  private readonly dropOption: readonly string[];
  /** Per column: kept as text (categorical), left out (dropped). */
  private categoricalColumn: boolean[] = [];
  private droppedColumn: boolean[] = [];
  /** Some dropped column: rows go through the general path, which leaves cells out. */
  private dropsColumns = false;
  /** Some categorical text is not ASCII: the prepared text is decoded as UTF-8. */
  private nonAsciiText = false;

  /** Regressor: label values. Classifier: ids in order of first appearance, remapped to sorted classes at the end. */
  private labelBlocks: Float64Array[] = [];
  private labelBlock = new Float64Array(1024);
  private labelBlockLength = 0;
  private rowCount = 0;
  private readonly labelIdByText = new Map<string, number>();
  private readonly labelTexts: string[] = [];
  private readonly labelBytes: Buffer[] = [];
  private readonly labelBytesId: number[] = [];

  /** The bytes of a line that the chunk ended in the middle of. */
  private partial = Buffer.allocUnsafe(1024);
  private partialLength = 0;
  /** The last chunk ended with "\r": a "\n" starting the next one belongs to that line end. */
  private skipLineFeed = false;

  private out = Buffer.allocUnsafe(OUTPUT_BYTES);
  private outLength = 0;

  private quoted: QuotedStretch | null = null;
  private lastRecordEnd = 0;

  constructor(options: PrepareDatasetOptions) {
    this.problems = new ProblemList(options.source, options.maxProblems ?? DEFAULT_MAX_PROBLEMS);
    this.labelColumn = options.labelColumn.trim();
    this.predictorType = options.predictorType;
    this.regressor = options.predictorType === 'regressor';
    this.categoricalOption = options.categorical ?? [];
    this.dropOption = options.drop ?? [];
  }

  /** Reads bytes [start, end) of `data`, which continue the ones before. */
  write(data: Buffer, start: number, end: number): void {
    this.readLines(data, start, end);
    // The rows of the quoted lines come out with this push (but for the few bytes csv-parse reads ahead).
    if (this.quoted !== null) this.flushQuoted();
  }

  private readLines(data: Buffer, start: number, end: number): void {
    let p = this.skipLeadingLineFeed(data, start, end);
    if (p >= end) return;
    if (this.partialLength > 0) {
      const lineEnd = firstLineEnd(data, p, end);
      if (lineEnd === -1) {
        this.appendPartial(data, p, end);
        return;
      }
      this.appendPartial(data, p, lineEnd + 1);
      const length = this.partialLength;
      this.partialLength = 0;
      this.lines(this.partial, 0, length);
      p = this.skipLeadingLineFeed(data, lineEnd + 1, end);
    }
    const lastLineEnd = Math.max(data.lastIndexOf(LF, end - 1), data.lastIndexOf(CR, end - 1));
    if (lastLineEnd < p) {
      this.appendPartial(data, p, end);
      return;
    }
    this.lines(data, p, lastLineEnd + 1);
    p = this.skipLeadingLineFeed(data, lastLineEnd + 1, end);
    if (p < end) this.appendPartial(data, p, end);
  }

  /** Ends the input: reads the last line and checks the file as a whole. */
  end(): PreparedSummary {
    if (this.partialLength > 0) {
      const length = this.partialLength;
      this.partialLength = 0;
      this.line++;
      this.anyLine(this.partial, 0, length, this.line, false);
    }
    if (this.quoted !== null) this.endQuoted(true);
    return this.summary();
  }

  /**
   * The prepared rows written since the last call. Made of strings of at most 64 KiB: V8 makes those in its young
   * generation, larger ones cost a garbage collection each.
   */
  takeText(): string {
    if (this.nonAsciiText) {
      const utf8 = this.out.toString('utf8', 0, this.outLength);
      this.outLength = 0;
      return utf8;
    }
    let text = '';
    for (let at = 0; at < this.outLength; at += OUTPUT_BYTES) {
      text += this.out.toString('latin1', at, Math.min(this.outLength, at + OUTPUT_BYTES));
    }
    this.outLength = 0;
    return text;
  }

  private skipLeadingLineFeed(data: Buffer, start: number, end: number): number {
    if (!this.skipLineFeed || start >= end) return start;
    this.skipLineFeed = false;
    if (data[start] !== LF) return start;
    this.lineFeeds++;
    return start + 1;
  }

  private appendPartial(data: Buffer, start: number, end: number): void {
    const needed = this.partialLength + end - start;
    if (needed > this.partial.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.partial.length));
      this.partial.copy(grown, 0, 0, this.partialLength);
      this.partial = grown;
    }
    data.copy(this.partial, this.partialLength, start, end);
    this.partialLength = needed;
  }

  /** Reads the lines of [start, end), which ends with a line end. */
  private lines(data: Buffer, start: number, end: number): void {
    let p = start;
    while (p < end) {
      const quoted = this.quoted;
      // A line end outside quotes, once enough went through csv-parse: the rows may go on without it.
      if (quoted !== null && quoted.parity === 0 && quoted.bytes >= quotedStretchTuning.minBytes) this.endQuoted(false);
      if (this.quoted === null && this.columnNames !== null) {
        const next = this.plainRow(data, p, end);
        if (next !== -1) {
          p = next;
          continue;
        }
      }
      const lineEnd = firstLineEnd(data, p, end);
      this.line++;
      this.anyLine(data, p, lineEnd, this.line, true);
      p = this.afterLineEnd(data, lineEnd, end);
    }
  }

  /** Consumes the line end at `at` ("\n", "\r\n" or "\r"); returns where the next line starts. */
  private afterLineEnd(data: Buffer, at: number, end: number): number {
    if (data[at] === LF) {
      this.lineFeeds++;
      return at + 1;
    }
    if (at + 1 === end) {
      this.skipLineFeed = true;
      return end;
    }
    if (data[at + 1] === LF) {
      this.lineFeeds++;
      return at + 2;
    }
    return at + 1;
  }

  /**
   * The common row, read straight from the bytes: the right number of fields, plain decimals (an optional "-",
   * an integer part without leading zeros, an optional fraction, at most 15 significant digits, not below 1e-6),
   * a label without control characters, spaces or tabs around cells, any cell possibly in quotes without quotes or
   * line ends inside (what csv-parse reads as the text between the quotes). Writes String(Number(cell)) without
   * computing it: such a decimal reads back from its double as the same digits, so it is the decimal without the
   * fraction's trailing zeros ("0" for zero). Returns where the next line starts, or -1 (nothing done) for any
   * other row.
   */
  private plainRow(data: Buffer, start: number, end: number): number {
    if (this.dropsColumns) return -1;
    let out = this.outLength + (end - start) > this.out.length ? this.growOutput(end - start) : this.out;
    const rowStart = this.outLength;
    const labelIndex = this.labelIndex;
    const lastColumn = this.lastColumn;
    let o = rowStart;
    let p = start;
    let c = data[p];
    let labelStart = 0;
    let labelEnd = 0;
    let labelIsAscii = true;
    for (let column = 0; ; column++) {
      while (c === SPACE || c === TAB) c = data[++p];
      const quoted = c === QUOTE;
      if (quoted) {
        c = data[++p];
        while (c === SPACE || c === TAB) c = data[++p];
      }
      if (column === labelIndex) {
        labelStart = p;
        if (quoted) {
          while (c !== QUOTE) {
            if (c > DEL) labelIsAscii = false;
            else if (c === DEL || (c < SPACE && c !== TAB)) return -1;
            c = data[++p];
          }
        } else {
          while (c !== COMMA && c !== LF && c !== CR) {
            if (c > DEL) labelIsAscii = false;
            else if (c === QUOTE || c === DEL || (c < SPACE && c !== TAB)) return -1;
            c = data[++p];
          }
        }
        labelEnd = p;
        while (labelEnd > labelStart && (data[labelEnd - 1] === SPACE || data[labelEnd - 1] === TAB)) labelEnd--;
        if (labelEnd === labelStart) return -1;
      } else {
        if (o !== rowStart) out[o++] = COMMA;
        const cellStart = o;
        const cellInput = p;
        let written = false;
        plain: {
          if (c === MINUS) {
            out[o++] = c;
            c = data[++p];
          }
          let integerDigits = 0;
          if (c === ZERO) {
            out[o++] = c;
            c = data[++p];
            if (c >= ZERO && c <= NINE) break plain;
          } else if (c > ZERO && c <= NINE) {
            do {
              out[o++] = c;
              integerDigits++;
              c = data[++p];
            } while (c >= ZERO && c <= NINE);
            if (integerDigits > EXACT_DIGITS) break plain;
          } else break plain;
          let isZero = integerDigits === 0;
          if (c === DOT) {
            const dot = o;
            out[o++] = c;
            c = data[++p];
            if (!(c >= ZERO && c <= NINE)) break plain;
            let significantEnd = dot;
            let firstSignificant = -1;
            do {
              out[o++] = c;
              if (c !== ZERO) {
                significantEnd = o;
                if (firstSignificant === -1) firstSignificant = o - 1;
              }
              c = data[++p];
            } while (c >= ZERO && c <= NINE);
            o = significantEnd;
            if (significantEnd !== dot) {
              if (!isZero) {
                if (integerDigits + (significantEnd - dot - 1) > EXACT_DIGITS) break plain;
              } else if (firstSignificant - dot > 6 || significantEnd - firstSignificant > EXACT_DIGITS) break plain;
              isZero = false;
            }
          }
          if (c === LOWER_E || c === UPPER_E) break plain;
          if (isZero) {
            o = cellStart;
            out[o++] = ZERO;
          }
          written = true;
        }
        if (!written) {
          // Any other decimal (an exponent, more digits, a leading zero or "+", ".5", "5."): String(Number(cell)).
          p = cellInput;
          c = data[p];
          while ((c >= ZERO && c <= NINE) || c === DOT || c === MINUS || c === PLUS || c === LOWER_E || c === UPPER_E) {
            c = data[++p];
          }
          const value = parseFiniteNumber(data.toString('latin1', cellInput, p));
          if (value === undefined) return -1;
          const text = String(value);
          if (cellStart + text.length + (end - p) > out.length) out = this.growOutput(end - p + text.length, cellStart);
          o = cellStart;
          for (let i = 0; i < text.length; i++) out[o++] = text.charCodeAt(i);
        }
        while (c === SPACE || c === TAB) c = data[++p];
        if (quoted !== (c === QUOTE)) return -1;
      }
      if (quoted) {
        // A quote right after the closing one is an escaped quote; anything but white space, a comma or the line
        // end after it is an error csv-parse reports.
        c = data[++p];
        while (c === SPACE || c === TAB) c = data[++p];
      }
      if (column === lastColumn) break;
      if (c !== COMMA) return -1;
      c = data[++p];
    }
    if (c !== LF && c !== CR) return -1;
    let label: number;
    if (this.regressor) {
      const value = labelIsAscii ? parseFiniteNumber(data.toString('latin1', labelStart, labelEnd)) : undefined;
      if (value === undefined) return -1;
      label = value;
    } else {
      label = this.plainLabelId(data, labelStart, labelEnd, labelIsAscii);
      if (label === -1) return -1;
    }
    out[o++] = LF;
    if (this.problems.isEmpty) this.outLength = o;
    this.pushLabel(label);
    this.line++;
    return this.afterLineEnd(data, p, end);
  }

  /** Any line, by the general rules; `terminated` is false for a last line without a line end. */
  private anyLine(data: Buffer, start: number, end: number, line: number, terminated: boolean): void {
    const quotes = countByte(data, QUOTE, start, end);
    if (this.quoted !== null) {
      this.feedQuoted(data, start, end, line, terminated, quotes);
      return;
    }
    if (quotes > 0) {
      this.quoted = {
        parser: csvParserStartingAt(line),
        parity: 0,
        bytes: 0,
        pending: Buffer.allocUnsafe(QUOTED_FLUSH_BYTES),
        pendingLength: 0,
        nonBlankLines: [],
      };
      this.feedQuoted(data, start, end, line, terminated, quotes);
      return;
    }
    const text = data.toString('utf8', start, end);
    // csv-parse skips a line that is only white space: trimming leaves no field and no record.
    if (text.indexOf(',') === -1 && text.trim() === '') return;
    const cells = text.split(',');
    for (let i = 0; i < cells.length; i++) cells[i] = cells[i].trim();
    this.record(cells, line);
  }

  private feedQuoted(
    data: Buffer,
    start: number,
    end: number,
    line: number,
    terminated: boolean,
    quotes: number,
  ): void {
    const quoted = this.quoted!;
    quoted.parity ^= quotes & 1;
    const length = end - start + (terminated ? 1 : 0);
    quoted.bytes += length;
    if (quoted.pendingLength + length > quoted.pending.length) {
      this.flushQuoted();
      if (length > quoted.pending.length) quoted.pending = Buffer.allocUnsafe(length);
    }
    data.copy(quoted.pending, quoted.pendingLength, start, end);
    if (terminated) quoted.pending[quoted.pendingLength + length - 1] = LF;
    quoted.pendingLength += length;
    if (!isBlank(data, start, end)) quoted.nonBlankLines.push(line);
  }

  /** Hands the pending lines to csv-parse. */
  private flushQuoted(): void {
    const quoted = this.quoted!;
    if (quoted.pendingLength === 0) return;
    // A copy: csv-parse keeps the bytes it has not read yet.
    const bytes = Buffer.from(quoted.pending.subarray(0, quoted.pendingLength));
    quoted.pendingLength = 0;
    this.parseQuoted(bytes, false);
  }

  /** Ends the quoted stretch: at a line end outside quotes, or at the end of the file. */
  private endQuoted(endOfFile: boolean): void {
    this.flushQuoted();
    this.parseQuoted(undefined, true, endOfFile);
    this.quoted = null;
  }

  private parseQuoted(bytes: Buffer | undefined, end: boolean, endOfFile = false): void {
    const quoted = this.quoted!;
    const { parser } = quoted;
    const error = parser.parse(
      bytes,
      end,
      (record) => {
        const endLine = parser.info.lines;
        this.record(record, endLine - countLineBreaks(record));
        this.lastRecordEnd = endLine;
      },
      noop,
    );
    if (error !== undefined) this.csvFailure(error, endOfFile);
    // Lines that records ended after are no longer candidates; of the rest, only the first one and the last few
    // (whose line ends csv-parse may not have read yet) can be the first after the last record.
    const lines = quoted.nonBlankLines;
    let passed = 0;
    while (passed < lines.length && lines[passed] <= this.lastRecordEnd) passed++;
    if (passed > 0) lines.splice(0, passed);
    if (lines.length > 4 * PARSER_LOOKAHEAD_LINES) {
      const recent = this.line - PARSER_LOOKAHEAD_LINES;
      quoted.nonBlankLines = [lines[0], ...lines.filter((line, i) => i > 0 && line > recent)];
    }
  }

  private csvFailure(error: Error, endOfFile: boolean): never {
    if (!(error instanceof CsvError)) throw error;
    if (error.code === 'CSV_QUOTE_NOT_CLOSED' && endOfFile) {
      const row = this.quoted!.nonBlankLines.find((line) => line > this.lastRecordEnd) ?? this.lastRecordEnd + 1;
      this.problems.fail({ row, message: 'a quoted field is never closed: the file ends inside quotes' }, error);
    }
    const line = typeof error.lines === 'number' ? error.lines : undefined;
    return this.problems.fail({ row: line, message: `is not valid CSV: ${error.message}` }, error);
  }

  private record(cells: string[], line: number): void {
    if (this.columnNames === null) this.readHeader(cells, line);
    else this.readRow(cells, line);
  }

  private readHeader(cells: string[], line: number): void {
    const names = cells.map((cell) => cell.trim());
    const positionsByName = new Map<string, number[]>();
    names.forEach((name, j) => {
      if (name === '') {
        this.problems.add({
          row: line,
          columnIndex: j + 1,
          message: 'the header cell is empty; every column needs a name',
        });
        return;
      }
      const positions = positionsByName.get(name) ?? [];
      positions.push(j + 1);
      positionsByName.set(name, positions);
    });
    for (const [name, positions] of positionsByName) {
      if (positions.length > 1) {
        this.problems.add({
          row: line,
          column: name,
          message: `the column name appears ${positions.length} times in the header (columns ${positions.join(', ')}); column names must be unique`,
        });
      }
    }
    const labelIndex = names.indexOf(this.labelColumn);
    if (labelIndex === -1 || this.labelColumn === '') {
      this.problems.add({ row: line, message: missingLabelMessage(this.labelColumn, names) });
    } else if (names.length === 1) {
      this.problems.add({
        row: line,
        message: `has only the label column ${quote(this.labelColumn)}; at least one feature column is needed`,
      });
    }
    const known = (field: string, columns: readonly string[]) => {
      for (const column of columns) {
        if (!names.includes(column)) {
          this.problems.add({
            row: line,
            message: `features.${field} names the column ${quote(column)}, which is not in the header (${names.slice(0, MAX_NAMES_LISTED).map(quote).join(', ')}${names.length > MAX_NAMES_LISTED ? ', …' : ''})`,
          });
        }
      }
    };
    if (this.categoricalOption !== 'auto') known('categorical', this.categoricalOption);
    known('drop', this.dropOption);
    if (
      labelIndex !== -1 &&
      names.filter((name, j) => j !== labelIndex && !this.dropOption.includes(name)).length === 0
    ) {
      this.problems.add({ row: line, message: 'features.drop leaves no feature column' });
    }
    this.problems.throwIfAny();
    this.columnNames = names;
    this.labelIndex = labelIndex;
    this.lastColumn = names.length - 1;
    this.droppedColumn = names.map((name) => this.dropOption.includes(name));
    this.dropsColumns = this.droppedColumn.includes(true);
    this.categoricalColumn = names.map(
      (name) => this.categoricalOption !== 'auto' && this.categoricalOption.includes(name),
    );
  }

  private readRow(cells: string[], line: number): void {
    const names = this.columnNames!;
    if (cells.length !== names.length) {
      this.problems.add({
        row: line,
        message: `expected ${names.length} fields (one per header column), got ${cells.length}`,
      });
      return;
    }
    let text = '';
    let first = true;
    for (let j = 0; j < cells.length; j++) {
      if (j === this.labelIndex || this.droppedColumn[j]) continue;
      const value = parseFiniteNumber(cells[j]);
      let cell: string;
      if (value !== undefined) cell = String(value);
      else if (this.categoricalColumn[j] || this.categoricalOption === 'auto') {
        cell = cells[j].trim();
        if (/[,"\r\n]/.test(cell)) {
          this.problems.add({
            row: line,
            column: names[j],
            message: `a categorical value cannot hold a comma, a quote or a line break, got ${quote(cell)}`,
          });
        }
        this.categoricalColumn[j] = true;
        // eslint-disable-next-line no-control-regex
        if (/[^\x00-\x7f]/.test(cell)) this.nonAsciiText = true;
      } else {
        this.problems.add({ row: line, column: names[j], message: notANumberMessage(cells[j]) });
        continue;
      }
      text += first ? cell : `,${cell}`;
      first = false;
    }
    const labelCell = cells[this.labelIndex].trim();
    if (labelCell === '') {
      this.problems.add({ row: line, column: this.labelColumn, message: 'the label is empty' });
      this.pushLabel(-1);
    } else if (this.regressor) {
      const value = parseFiniteNumber(labelCell);
      if (value === undefined)
        this.problems.add({ row: line, column: this.labelColumn, message: notANumberMessage(labelCell) });
      this.pushLabel(value ?? Number.NaN);
    } else {
      this.pushLabel(this.labelId(labelCell));
    }
    if (this.problems.isEmpty) this.writeText(`${text}\n`);
  }

  private labelId(text: string): number {
    let id = this.labelIdByText.get(text);
    if (id === undefined) {
      id = this.labelTexts.length;
      this.labelIdByText.set(text, id);
      this.labelTexts.push(text);
    }
    return id;
  }

  /**
   * labelId for the label bytes [start, end), spaces and tabs trimmed; -1 if the label is only white space. The
   * first few labels are matched as bytes, without making a string.
   */
  private plainLabelId(data: Buffer, start: number, end: number, isAscii: boolean): number {
    const length = end - start;
    const known = this.labelBytes;
    for (let k = 0; k < known.length; k++) {
      const bytes = known[k];
      if (bytes.length !== length) continue;
      let j = 0;
      while (j < length && bytes[j] === data[start + j]) j++;
      if (j === length) return this.labelBytesId[k];
    }
    // Other white space, such as a no-break space, is trimmed like csv-parse and the in-memory reader trimmed it.
    const text = isAscii ? data.toString('latin1', start, end) : data.toString('utf8', start, end).trim();
    if (text === '') return -1;
    const id = this.labelId(text);
    if (known.length < LABELS_MATCHED_AS_BYTES) {
      known.push(Buffer.from(data.subarray(start, end)));
      this.labelBytesId.push(id);
    }
    return id;
  }

  /** Labels go to blocks (up to 512 KiB each), so that no growing array is ever copied while rows come in. */
  private pushLabel(value: number): void {
    if (this.labelBlockLength === this.labelBlock.length) {
      this.labelBlocks.push(this.labelBlock);
      this.labelBlock = new Float64Array(Math.min(LABEL_BLOCK_LENGTH, 2 * this.labelBlock.length));
      this.labelBlockLength = 0;
    }
    this.labelBlock[this.labelBlockLength++] = value;
    this.rowCount++;
  }

  /** The labels in one array of exactly rowCount, the blocks let go. */
  private takeLabels(): Float64Array {
    const labels = new Float64Array(this.rowCount);
    let at = 0;
    for (const block of this.labelBlocks) {
      labels.set(block, at);
      at += block.length;
    }
    labels.set(this.labelBlock.subarray(0, this.labelBlockLength), at);
    this.labelBlocks = [];
    this.labelBlock = new Float64Array(0);
    this.labelBlockLength = 0;
    return labels;
  }

  /** Room for `extra` more bytes after the first `keep` (the output so far, by default), which stay. */
  private growOutput(extra: number, keep = this.outLength): Buffer {
    const grown = Buffer.allocUnsafe(Math.max(2 * this.out.length, keep + extra));
    this.out.copy(grown, 0, 0, keep);
    this.out = grown;
    return grown;
  }

  private writeText(text: string): void {
    const bytes = this.nonAsciiText ? Buffer.byteLength(text, 'utf8') : text.length;
    if (this.outLength + bytes > this.out.length) this.growOutput(bytes);
    this.outLength += this.out.write(text, this.outLength, this.nonAsciiText ? 'utf8' : 'latin1');
  }

  private summary(): PreparedSummary {
    if (this.columnNames === null) this.problems.fail({ message: 'is empty' });
    if (this.rowCount === 0 && this.problems.isEmpty) {
      this.problems.fail({ message: 'has a header but no data rows' });
    }
    const features = this.columnNames!.filter((_, j) => j !== this.labelIndex && !this.droppedColumn[j]);
    const base = {
      featureNames: features,
      categorical: this.columnNames!.filter((name, j) => this.categoricalColumn[j] && features.includes(name)),
      dropped: this.columnNames!.filter((_, j) => this.droppedColumn[j]),
      labelColumn: this.labelColumn,
      predictorType: this.predictorType,
      rowCount: this.rowCount,
    };
    if (this.regressor) {
      this.problems.throwIfAny();
      return { ...base, classes: null, labels: this.takeLabels(), classCounts: null, warnings: [] };
    }
    const { classes, classOfId } = orderClasses(this.labelTexts);
    if (classes.length === 1) {
      this.problems.add({
        column: this.labelColumn,
        message: `a classifier needs at least two classes, but every row has the label ${quote(classes[0])}`,
      });
    }
    this.problems.throwIfAny();
    const labels = this.takeLabels();
    const rowsPerClass = new Array<number>(classes.length).fill(0);
    for (let i = 0; i < labels.length; i++) {
      const label = classOfId[labels[i] | 0];
      labels[i] = label;
      rowsPerClass[label]++;
    }
    return {
      ...base,
      classes,
      labels,
      classCounts: Object.fromEntries(classes.map((name, index) => [name, rowsPerClass[index]])),
      warnings: singleRowClassWarnings(classes, rowsPerClass),
    };
  }
}

function firstLineEnd(data: Buffer, start: number, end: number): number {
  for (let p = start; p < end; p++) {
    const c = data[p];
    if (c === LF || c === CR) return p;
  }
  return -1;
}

/** (A loop: indexOf would look on past `end` to the end of the chunk, for every line.) */
function countByte(data: Buffer, byte: number, start: number, end: number): number {
  let count = 0;
  for (let p = start; p < end; p++) if (data[p] === byte) count++;
  return count;
}

/** Only white space, as /\S/ and csv-parse's trim see it. */
function isBlank(data: Buffer, start: number, end: number): boolean {
  for (let p = start; p < end; p++) {
    const c = data[p];
    if (c >= 0x80) return !/\S/.test(data.toString('utf8', start, end));
    if (c !== SPACE && c !== TAB && c !== VT && c !== FF) return false;
  }
  return true;
}

function countLineBreaks(cells: string[]): number {
  let count = 0;
  for (const cell of cells) {
    for (let at = cell.indexOf('\n'); at !== -1; at = cell.indexOf('\n', at + 1)) count++;
  }
  return count;
}

function missingLabelMessage(labelColumn: string, names: string[]): string {
  const listed = names.slice(0, MAX_NAMES_LISTED).map(quote).join(', ');
  const more = names.length > MAX_NAMES_LISTED ? ` and ${names.length - MAX_NAMES_LISTED} more` : '';
  const nearMatch = names.find((name) => name.toLowerCase() === labelColumn.toLowerCase());
  const hint = nearMatch === undefined ? '' : ` (did you mean ${quote(nearMatch)}? names are case-sensitive)`;
  return `has no label column ${quote(labelColumn)}${hint}; the header has ${names.length} columns: ${listed}${more}`;
}

/** LabelEncoder order: numeric when every label is a number, otherwise by code point. */
function orderClasses(labelTexts: string[]): { classes: string[]; classOfId: number[] } {
  const numericValues = labelTexts.map(parseFiniteNumber);
  if (numericValues.every((value) => value !== undefined)) {
    const firstIdByValue = new Map<number, number>();
    numericValues.forEach((value, id) => {
      if (!firstIdByValue.has(value!)) firstIdByValue.set(value!, id);
    });
    const sortedValues = [...firstIdByValue.keys()].sort((a, b) => a - b);
    const classIndexByValue = new Map(sortedValues.map((value, index) => [value, index]));
    return {
      classes: sortedValues.map((value) => labelTexts[firstIdByValue.get(value)!]),
      classOfId: numericValues.map((value) => classIndexByValue.get(value!)!),
    };
  }
  const sortedIds = labelTexts.map((_, id) => id).sort((a, b) => compareCodePoints(labelTexts[a], labelTexts[b]));
  const classOfId = new Array<number>(labelTexts.length);
  sortedIds.forEach((id, index) => (classOfId[id] = index));
  return { classes: sortedIds.map((id) => labelTexts[id]), classOfId };
}

/** numpy sorts strings by code point; JavaScript's default compares UTF-16 units, which differ above U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function singleRowClassWarnings(classes: string[], rowsPerClass: number[]): string[] {
  const lonely = classes.filter((_, index) => rowsPerClass[index] === 1);
  if (lonely.length === 0) return [];
  const listed = lonely.slice(0, MAX_NAMES_LISTED).map(quote).join(', ');
  const more = lonely.length > MAX_NAMES_LISTED ? ` and ${lonely.length - MAX_NAMES_LISTED} more` : '';
  const subject = lonely.length === 1 ? '1 class has' : `${lonely.length} classes have`;
  return [`${subject} a single row, too few to appear in both the training and the test data: ${listed}${more}`];
}
