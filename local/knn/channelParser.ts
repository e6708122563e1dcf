/**
 * Streaming reader of a k-NN training channel (reference A.2: text/csv, label first, no header) into typed arrays.
 *
 * A channel can be far larger than a JavaScript string may be (a 7.5M × 16 channel is ~860 MB of text), so it is fed
 * in chunks (`write`) straight from the S3 object streams and stored as it is parsed: features as float32 — what the
 * index keeps anyway — and labels as float64 (the test score compares them exactly), both in fixed-size blocks so the
 * storage never has to be copied to grow. Nothing per row survives parsing but those numbers.
 *
 * The accepted text and the error messages are those of `parseLabelFirstCsv` (src/domain/dataset.ts), which the local
 * trainer used before: cells are trimmed, blank lines skipped but counted, plain decimal numbers only, every row as
 * wide as the first, the first 20 problems listed with `row N, column C:` and "... and N more problems". Then, as the
 * trainer checked them: the width against `feature_dim`, and classifier labels as class indices.
 */

import { KnnClientError } from './errors';

/** The rows of a channel as parsed: `count` rows of `dim` features, in channel order. */
export interface ChannelRows {
  readonly name: string;
  readonly count: number;
  /** Features per row (feature_dim). */
  readonly dim: number;
  /** Largest label seen (-Infinity without rows). */
  readonly maxLabel: number;
  /** The number of bytes read (after decompression), for the log. */
  readonly bytes: number;
  label(row: number): number;
  /** Copies row `row`'s features to `target` at `offset`. */
  copyFeatures(row: number, target: Float32Array, offset: number): void;
  /** The features of rows [start, end), row-major. */
  featureRange(start: number, end: number): Float32Array;
  /** The labels of rows [start, end). */
  labelRange(start: number, end: number): Float64Array;
  /** The storage itself: fixed-size typed-array blocks, nothing else per row. */
  storage(): { features: readonly Float32Array[]; labels: readonly Float64Array[] };
}

export interface ChannelParserOptions {
  /** How problems name the channel, e.g. `channel "train"`. */
  source: string;
  /** The channel's name, for the messages after parsing (`channel "train" row 2 has …`). */
  channel: string;
  featureDim: number;
  /** Classifier labels must be class indices (integers ≥ 0). */
  classifier: boolean;
  /** Rows per storage block (tests use small blocks to cross block boundaries). */
  blockRows?: number;
}

interface Problem {
  row?: number;
  column?: number;
  message: string;
}

const MAX_PROBLEMS = 20;
const MAX_VALUE_SHOWN = 60;
const FINITE_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DEFAULT_BLOCK_ROWS = 16_384;
/** 10^0 … 10^22: exactly representable doubles (Clinger's fast path). */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

export class LabelFirstCsvParser {
  private readonly blockRows: number;
  private readonly featureBlocks: Float32Array[] = [];
  private readonly labelBlocks: Float64Array[] = [];
  private readonly problems: Problem[] = [];
  private problemCount = 0;
  private decoder = new TextDecoder('utf-8');
  private pending = '';
  private line = 0;
  private width = -1;
  /** Rows stored (or, once the width is known to be wrong, rows that would have been). */
  private rows = 0;
  private maxLabel = -Infinity;
  private bytes = 0;
  private labelProblem?: string;
  private widthMismatch = false;
  private finished?: ChannelRows;
  private readonly row: Float64Array;

  constructor(private readonly options: ChannelParserOptions) {
    this.blockRows = options.blockRows ?? DEFAULT_BLOCK_ROWS;
    this.row = new Float64Array(options.featureDim + 1);
  }

  /** Feeds bytes (or text) of the current object. */
  write(chunk: Uint8Array | string): void {
    if (this.finished) throw new Error('channel already ended');
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
      this.bytes += Buffer.byteLength(chunk);
    } else {
      text = this.decoder.decode(chunk, { stream: true });
      this.bytes += chunk.length;
    }
    this.consume(text, false);
  }

  /**
   * Ends the current object: a last line without a newline is a row of its own, not the start of the next object's
   * first row (SageMaker's objects are files; the trainer reads them one after the other).
   */
  endObject(): void {
    const tail = this.decoder.decode();
    this.decoder = new TextDecoder('utf-8');
    this.consume(tail, true);
  }

  /** Ends the channel: its rows, or a KnnClientError naming every problem found. */
  end(): ChannelRows {
    if (this.finished) return this.finished;
    this.endObject();
    if (this.width === -1) this.fail({ message: 'is empty' });
    this.throwIfProblems();
    const { channel, featureDim } = this.options;
    if (this.widthMismatch) {
      throw new KnnClientError(
        `feature_dim hyperparameter is ${featureDim} but channel "${channel}" row 1 has ${this.width - 1} features (columns after the label).`,
      );
    }
    if (this.labelProblem) throw new KnnClientError(this.labelProblem);
    this.finished = new StoredRows(
      channel,
      this.rows,
      featureDim,
      this.maxLabel,
      this.bytes,
      this.blockRows,
      this.featureBlocks,
      this.labelBlocks,
    );
    return this.finished;
  }

  private consume(text: string, endOfObject: boolean): void {
    let data = this.pending.length > 0 ? this.pending + text : text;
    let start = 0;
    for (;;) {
      const newline = data.indexOf('\n', start);
      if (newline === -1) break;
      this.parseLine(data, start, newline);
      start = newline + 1;
    }
    data = start === 0 ? data : data.slice(start);
    if (endOfObject) {
      if (data.length > 0) this.parseLine(data, 0, data.length);
      this.pending = '';
    } else {
      this.pending = data;
    }
  }

  private parseLine(text: string, start: number, end: number): void {
    this.line++;
    if (isBlank(text, start, end)) return;
    let cells = 1;
    for (let i = text.indexOf(',', start); i !== -1 && i < end; i = text.indexOf(',', i + 1)) cells++;
    const { featureDim } = this.options;
    if (this.width === -1) {
      this.width = cells;
      if (cells < 2)
        this.fail({ row: this.line, message: `expected a label and at least one feature, got ${cells} field` });
      this.widthMismatch = cells - 1 !== featureDim;
    } else if (cells !== this.width) {
      this.add({ row: this.line, message: `expected ${this.width} fields like the first row, got ${cells}` });
      return;
    }
    const row = this.row;
    let valid = true;
    let cellStart = start;
    for (let column = 0; column < cells; column++) {
      let cellEnd = column === cells - 1 ? end : text.indexOf(',', cellStart);
      if (cellEnd === -1 || cellEnd > end) cellEnd = end;
      const value = parseCell(text, cellStart, cellEnd);
      if (value === undefined) {
        valid = false;
        this.add({ row: this.line, column: column + 1, message: notANumberMessage(text.slice(cellStart, cellEnd)) });
      } else if (!this.widthMismatch) {
        row[column] = value;
      }
      cellStart = cellEnd + 1;
    }
    if (!valid || this.problemCount > 0) {
      this.rows++;
      return; // the channel will be refused: stop storing, keep counting problems
    }
    if (this.widthMismatch) {
      this.rows++;
      return;
    }
    const label = row[0];
    if (this.options.classifier && !(Number.isInteger(label) && label >= 0) && this.labelProblem === undefined) {
      this.labelProblem = `predictor_type is classifier but channel "${this.options.channel}" row ${this.rows + 1} has label ${label}; classifier labels must be class indices (integers 0, 1, 2, …).`;
    }
    if (label > this.maxLabel) this.maxLabel = label;
    this.store(row);
  }

  private store(row: Float64Array): void {
    const { featureDim } = this.options;
    const index = this.rows % this.blockRows;
    if (index === 0) {
      this.featureBlocks.push(new Float32Array(this.blockRows * featureDim));
      this.labelBlocks.push(new Float64Array(this.blockRows));
    }
    const features = this.featureBlocks[this.featureBlocks.length - 1];
    this.labelBlocks[this.labelBlocks.length - 1][index] = row[0];
    const offset = index * featureDim;
    for (let j = 0; j < featureDim; j++) features[offset + j] = row[j + 1];
    this.rows++;
  }

  private add(problem: Problem): void {
    this.problemCount++;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(problem);
  }

  /** Adds a problem and throws with everything found so far (an empty channel, a first row without features). */
  private fail(problem: Problem): never {
    this.add(problem);
    throw this.error();
  }

  private throwIfProblems(): void {
    if (this.problemCount > 0) throw this.error();
  }

  private error(): KnnClientError {
    const { source } = this.options;
    const lines = this.problems.map((problem) => `${source}: ${describeProblem(problem)}`);
    const unlisted = this.problemCount - this.problems.length;
    if (unlisted > 0) lines.push(`... and ${unlisted} more problem${unlisted === 1 ? '' : 's'}`);
    return new KnnClientError(
      `Unable to read the training data (text/csv, label first, no header): ${lines.join('\n')}`,
    );
  }
}

/** Parses a whole channel held in memory (tests, small channels). */
export function parseChannelText(text: string, options: ChannelParserOptions): ChannelRows {
  const parser = new LabelFirstCsvParser(options);
  parser.write(text);
  return parser.end();
}

class StoredRows implements ChannelRows {
  private readonly shift: number;
  private readonly mask: number;

  constructor(
    readonly name: string,
    readonly count: number,
    readonly dim: number,
    readonly maxLabel: number,
    readonly bytes: number,
    private readonly blockRows: number,
    private readonly featureBlocks: Float32Array[],
    private readonly labelBlocks: Float64Array[],
  ) {
    const power = Math.log2(blockRows);
    this.shift = Number.isInteger(power) ? power : -1;
    this.mask = blockRows - 1;
  }

  private locate(row: number): [number, number] {
    if (!(row >= 0 && row < this.count)) throw new RangeError(`row ${row} is not in [0, ${this.count})`);
    return this.shift >= 0
      ? [row >>> this.shift, row & this.mask]
      : [Math.floor(row / this.blockRows), row % this.blockRows];
  }

  label(row: number): number {
    const [block, index] = this.locate(row);
    return this.labelBlocks[block][index];
  }

  copyFeatures(row: number, target: Float32Array, offset: number): void {
    const [block, index] = this.locate(row);
    target.set(this.featureBlocks[block].subarray(index * this.dim, (index + 1) * this.dim), offset);
  }

  featureRange(start: number, end: number): Float32Array {
    const result = new Float32Array((end - start) * this.dim);
    for (let row = start; row < end;) {
      const [block, index] = this.locate(row);
      const take = Math.min(end - row, this.blockRows - index);
      result.set(
        this.featureBlocks[block].subarray(index * this.dim, (index + take) * this.dim),
        (row - start) * this.dim,
      );
      row += take;
    }
    return result;
  }

  storage(): { features: readonly Float32Array[]; labels: readonly Float64Array[] } {
    return { features: this.featureBlocks, labels: this.labelBlocks };
  }

  labelRange(start: number, end: number): Float64Array {
    const result = new Float64Array(end - start);
    for (let row = start; row < end;) {
      const [block, index] = this.locate(row);
      const take = Math.min(end - row, this.blockRows - index);
      result.set(this.labelBlocks[block].subarray(index, index + take), row - start);
      row += take;
    }
    return result;
  }
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    // ASCII whitespace, or let the regex decide about anything else (Unicode spaces)
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
    if (c < 0x80) return false;
    return !/\S/.test(text.slice(start, end));
  }
  return true;
}

/**
 * A cell as a finite number, or undefined: exactly `Number(cell.trim())` for plain decimal notation (no hex, no
 * "Infinity", no "NaN", no empty cell). Short decimals take Clinger's fast path — at most 15 significant digits and a
 * power of ten up to 22 are exact doubles, so one IEEE division is the correctly rounded value Number() gives; anything
 * else goes through Number() itself.
 */
function parseCell(text: string, start: number, end: number): number | undefined {
  while (start < end && isAsciiSpace(text.charCodeAt(start))) start++;
  while (end > start && isAsciiSpace(text.charCodeAt(end - 1))) end--;
  let i = start;
  let negative = false;
  let c = text.charCodeAt(i);
  if (c === 0x2d || c === 0x2b) {
    negative = c === 0x2d;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = 0;
  let sawDigit = false;
  let sawPoint = false;
  for (; i < end; i++) {
    c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      sawDigit = true;
      if (mantissa !== 0 || c !== 0x30) digits++;
      mantissa = mantissa * 10 + (c - 0x30);
      if (sawPoint) fractionDigits++;
    } else if (c === 0x2e && !sawPoint) {
      sawPoint = true;
    } else {
      break;
    }
  }
  if (i === end && sawDigit && digits <= 15 && fractionDigits <= 22) {
    const value = fractionDigits === 0 ? mantissa : mantissa / POWERS_OF_TEN[fractionDigits];
    return negative ? -value : value;
  }
  const cell = text.slice(start, end).trim();
  if (!FINITE_DECIMAL.test(cell)) return undefined;
  const value = Number(cell);
  return Number.isFinite(value) ? value : undefined;
}

function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function notANumberMessage(cell: string): string {
  const text = cell.trim();
  return text === '' ? 'expected a finite number, got an empty cell' : `expected a finite number, got ${quote(text)}`;
}

function quote(value: string): string {
  const shown = value.length > MAX_VALUE_SHOWN ? `${value.slice(0, MAX_VALUE_SHOWN)}…` : value;
  return JSON.stringify(shown);
}

function describeProblem(problem: Problem): string {
  const where: string[] = [];
  if (problem.row !== undefined) where.push(`row ${problem.row}`);
  if (problem.column !== undefined) where.push(`column ${problem.column}`);
  return where.length === 0 ? problem.message : `${where.join(', ')}: ${problem.message}`;
}
