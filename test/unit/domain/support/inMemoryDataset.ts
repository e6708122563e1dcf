// The pre-streaming implementation of src/domain/dataset.ts (commit f6e87a6: prepareDataset over csv-parse/sync,
// the whole file in memory), kept unchanged as a test oracle: the streaming DatasetReader must produce exactly what
// this produces, results and error messages, for every input (test/unit/domain/datasetReader.test.ts fuzzes both).
// Only its imports changed. Do not "fix" it: it is the definition of today's behaviour.
import { PipelineError } from '../../../../src/errors';
import { CsvError, parse } from 'csv-parse/sync';

import type { PredictorType } from '../../../../src/artifacts/predictorType';
export type { PredictorType };

export interface PreparedDataset {
  featureNames: string[];
  labelColumn: string;
  predictorType: PredictorType;
  /** Class names in label-index order for a classifier; null for a regressor. */
  classes: string[] | null;
  /** Class indices 0..C-1 for a classifier; the label values themselves for a regressor. */
  labels: number[];
  /** One array per row, in featureNames order. */
  features: number[][];
  rowCount: number;
  warnings: string[];
}

export interface PrepareDatasetOptions {
  /** Where the data came from (an s3:// URI); every error message starts with it. */
  source: string;
  labelColumn: string;
  predictorType: PredictorType;
  /** How many problems the error lists before "... and N more problems" (default 20). */
  maxProblems?: number;
}

export interface DatasetProblem {
  /** 1-based physical line of the file (the header is line 1), even with quoted multi-line fields. */
  row?: number;
  /** Column name from the header. */
  column?: string;
  /** 1-based column position, used when the column has no name. */
  columnIndex?: number;
  message: string;
}

const DEFAULT_MAX_PROBLEMS = 20;
const MAX_NAMES_LISTED = 50;
const MAX_VALUE_SHOWN = 60;
const FINITE_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export class DatasetError extends PipelineError {
  override name = 'DatasetError';
  readonly source: string;
  /** The first problems found (at most maxProblems). */
  readonly problems: DatasetProblem[];
  /** How many problems were found in all, listed or not. */
  readonly problemCount: number;

  constructor(
    source: string,
    problems: DatasetProblem[],
    problemCount: number = problems.length,
    options?: ErrorOptions,
  ) {
    super(formatProblems(source, problems, problemCount), options);
    this.source = source;
    this.problems = problems;
    this.problemCount = problemCount;
  }
}

/**
 * Validates and encodes a raw CSV. Cells are trimmed; blank lines are ignored; every problem in the file is
 * counted and the first maxProblems are listed. Classes follow scikit-learn's LabelEncoder: sorted numerically
 * when every label is a number (labels with the same value, such as "1" and "1.0", are one class named by its
 * first spelling), otherwise sorted by Unicode code point.
 */
export function prepareDataset(raw: Uint8Array | string, options: PrepareDatasetOptions): PreparedDataset {
  const problems = new ProblemList(options.source, options.maxProblems ?? DEFAULT_MAX_PROBLEMS);
  const text = decodeText(raw, problems);
  const builder = new DatasetBuilder(options.labelColumn.trim(), options.predictorType, problems);
  parseCsvRecords(text, problems, (cells, line) => builder.add(cells, line));
  return builder.finish();
}

/** Headerless CSV, label first, one `\n`-terminated line per row; `rows` picks and orders the rows written. */
export function toLabelFirstCsv(
  labels: ArrayLike<number>,
  features: ArrayLike<number>[] | number[][],
  rows?: ArrayLike<number>,
): string {
  if (labels.length !== features.length) {
    throw new RangeError(`${labels.length} labels but ${features.length} feature rows`);
  }
  const count = rows === undefined ? labels.length : rows.length;
  const lines = new Array<string>(count);
  let width = -1;
  for (let k = 0; k < count; k++) {
    const row = rows === undefined ? k : rows[k];
    if (!Number.isInteger(row) || row < 0 || row >= labels.length) {
      throw new RangeError(`row index ${row} is outside 0..${labels.length - 1}`);
    }
    const values = features[row];
    if (width === -1) width = values.length;
    if (values.length !== width) throw new RangeError(`row ${row} has ${values.length} features, expected ${width}`);
    let line = writableNumber(labels[row], row, 'label');
    for (let j = 0; j < values.length; j++) line += `,${writableNumber(values[j], row, `feature ${j}`)}`;
    lines[k] = line;
  }
  return count === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Inverse of toLabelFirstCsv: finite numbers only, same width on every row, at least one feature. */
export function parseLabelFirstCsv(
  text: string,
  source = 'label-first CSV',
): { labels: number[]; features: number[][] } {
  const rows = parseNumericRows(text, source, 2, 'a label and at least one feature');
  const labels = new Array<number>(rows.length);
  const features = new Array<number[]>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    labels[i] = rows[i][0];
    features[i] = rows[i].slice(1);
  }
  return { labels, features };
}

/** Headerless rows of features only (an inference request body): finite numbers, same width on every row. */
export function parseFeatureCsv(text: string): number[][] {
  return parseNumericRows(text, 'CSV payload', 1, 'at least one feature');
}

class ProblemList {
  private readonly listed: DatasetProblem[] = [];
  private count = 0;

  constructor(
    private readonly source: string,
    private readonly limit: number,
  ) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`maxProblems must be a positive integer, got ${limit}`);
  }

  add(problem: DatasetProblem): void {
    this.count++;
    if (this.listed.length < this.limit) this.listed.push(problem);
  }

  get isEmpty(): boolean {
    return this.count === 0;
  }

  /** Adds a problem and throws with everything found so far; `cause` is the parser's own error, if any. */
  fail(problem: DatasetProblem, cause?: unknown): never {
    this.add(problem);
    throw this.toError(cause === undefined ? undefined : { cause });
  }

  throwIfAny(): void {
    if (this.count > 0) throw this.toError();
  }

  private toError(options?: ErrorOptions): DatasetError {
    return new DatasetError(this.source, this.listed, this.count, options);
  }
}

function formatProblems(source: string, problems: DatasetProblem[], problemCount: number): string {
  const lines = problems.map((problem) => `${source}: ${describeProblem(problem)}`);
  const unlisted = problemCount - problems.length;
  if (unlisted > 0) lines.push(`... and ${unlisted} more problem${unlisted === 1 ? '' : 's'}`);
  return lines.join('\n');
}

function describeProblem(problem: DatasetProblem): string {
  const where: string[] = [];
  if (problem.row !== undefined) where.push(`row ${problem.row}`);
  if (problem.column !== undefined) where.push(`column ${quote(problem.column)}`);
  else if (problem.columnIndex !== undefined) where.push(`column ${problem.columnIndex}`);
  return where.length === 0 ? problem.message : `${where.join(', ')}: ${problem.message}`;
}

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

function decodeText(raw: Uint8Array | string, problems: ProblemList): string {
  if (typeof raw === 'string') {
    const nul = raw.indexOf('\u0000');
    if (nul !== -1) {
      problems.fail({
        row: lineOfOffset(raw, nul),
        message: `does not look like a CSV text file: it contains a NUL character at character offset ${nul}`,
      });
    }
    return normalizeLineEnds(raw.startsWith('\uFEFF') ? raw.slice(1) : raw);
  }
  const signature = BINARY_SIGNATURES.find((s) => s.bytes.every((byte, i) => raw[i] === byte));
  if (signature !== undefined) {
    problems.fail({ message: `does not look like a CSV text file: it starts like ${signature.description}` });
  }
  const nul = raw.indexOf(0);
  if (nul !== -1) {
    problems.fail({
      row: lineOfOffset(raw, nul),
      message: `does not look like a CSV text file: it contains a NUL byte at byte offset ${nul}`,
    });
  }
  try {
    // The decoder drops a leading UTF-8 byte order mark.
    return normalizeLineEnds(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (error) {
    const offset = firstInvalidUtf8Offset(raw);
    const byte = raw[offset].toString(16).padStart(2, '0');
    return problems.fail(
      {
        row: lineOfOffset(raw, offset),
        message: `is not valid UTF-8: byte 0x${byte} at byte offset ${offset} cannot be decoded; save the file as UTF-8`,
      },
      error,
    );
  }
}

// csv-parse counts a CRLF inside quotes as two lines, so every line end becomes "\n" before parsing.
function normalizeLineEnds(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** 1-based line holding a character (string) or byte (bytes) offset. */
function lineOfOffset(content: string | Uint8Array, offset: number): number {
  const codeAt = typeof content === 'string' ? (i: number) => content.charCodeAt(i) : (i: number) => content[i];
  let line = 1;
  for (let i = 0; i < offset; i++) if (codeAt(i) === 0x0a) line++;
  return line;
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

/** Streams records to `onRecord` with the physical line each starts on. */
function parseCsvRecords(text: string, problems: ProblemList, onRecord: (cells: string[], line: number) => void): void {
  let lastRecordEndLine = 0;
  try {
    parse(text, {
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      on_record: (record: string[], context) => {
        // context.lines is the line the record ends on; quoted line breaks push that past its first line.
        onRecord(record, context.lines - countLineBreaks(record));
        lastRecordEndLine = context.lines;
        return null;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
      problems.fail(
        {
          row: firstNonBlankLineAfter(text, lastRecordEndLine),
          message: 'a quoted field is never closed: the file ends inside quotes',
        },
        error,
      );
    }
    const line = typeof error.lines === 'number' ? error.lines : undefined;
    problems.fail({ row: line, message: `is not valid CSV: ${error.message}` }, error);
  }
}

function countLineBreaks(cells: string[]): number {
  let count = 0;
  for (const cell of cells) {
    for (let at = cell.indexOf('\n'); at !== -1; at = cell.indexOf('\n', at + 1)) count++;
  }
  return count;
}

function firstNonBlankLineAfter(text: string, line: number): number {
  const lines = text.split('\n');
  for (let index = line; index < lines.length; index++) if (/\S/.test(lines[index])) return index + 1;
  return line + 1;
}

class DatasetBuilder {
  private columnNames: string[] | null = null;
  private labelIndex = -1;
  private featureIndices: number[] = [];
  private readonly features: number[][] = [];
  /** Regressor: label values. Classifier: ids in order of first appearance, remapped to sorted classes at the end. */
  private readonly labels: number[] = [];
  private readonly labelIdByText = new Map<string, number>();
  private readonly labelTexts: string[] = [];

  constructor(
    private readonly labelColumn: string,
    private readonly predictorType: PredictorType,
    private readonly problems: ProblemList,
  ) {}

  add(cells: string[], line: number): void {
    if (this.columnNames === null) this.readHeader(cells, line);
    else this.readRow(cells, line);
  }

  finish(): PreparedDataset {
    if (this.columnNames === null) this.problems.fail({ message: 'is empty' });
    if (this.features.length === 0 && this.problems.isEmpty) {
      this.problems.fail({ message: 'has a header but no data rows' });
    }
    const base = {
      featureNames: this.featureIndices.map((j) => this.columnNames![j]),
      labelColumn: this.labelColumn,
      predictorType: this.predictorType,
      features: this.features,
      rowCount: this.features.length,
    };
    if (this.predictorType === 'regressor') {
      this.problems.throwIfAny();
      return { ...base, classes: null, labels: this.labels, warnings: [] };
    }
    const { classes, classOfId } = orderClasses(this.labelTexts);
    if (classes.length === 1) {
      this.problems.add({
        column: this.labelColumn,
        message: `a classifier needs at least two classes, but every row has the label ${quote(classes[0])}`,
      });
    }
    this.problems.throwIfAny();
    const rowsPerClass = new Array<number>(classes.length).fill(0);
    for (let i = 0; i < this.labels.length; i++) {
      this.labels[i] = classOfId[this.labels[i]];
      rowsPerClass[this.labels[i]]++;
    }
    return { ...base, classes, labels: this.labels, warnings: singleRowClassWarnings(classes, rowsPerClass) };
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
    this.labelIndex = names.indexOf(this.labelColumn);
    if (this.labelIndex === -1 || this.labelColumn === '') {
      this.problems.add({ row: line, message: missingLabelMessage(this.labelColumn, names) });
    } else if (names.length === 1) {
      this.problems.add({
        row: line,
        message: `has only the label column ${quote(this.labelColumn)}; at least one feature column is needed`,
      });
    }
    this.problems.throwIfAny();
    this.columnNames = names;
    this.featureIndices = names.map((_, j) => j).filter((j) => j !== this.labelIndex);
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
    const values = new Array<number>(this.featureIndices.length);
    for (let k = 0; k < this.featureIndices.length; k++) {
      const j = this.featureIndices[k];
      const value = parseFiniteNumber(cells[j]);
      if (value === undefined) this.problems.add({ row: line, column: names[j], message: notANumberMessage(cells[j]) });
      else values[k] = value;
    }
    this.features.push(values);
    const labelCell = cells[this.labelIndex].trim();
    if (labelCell === '') {
      this.problems.add({ row: line, column: this.labelColumn, message: 'the label is empty' });
      this.labels.push(-1);
    } else if (this.predictorType === 'regressor') {
      const value = parseFiniteNumber(labelCell);
      if (value === undefined)
        this.problems.add({ row: line, column: this.labelColumn, message: notANumberMessage(labelCell) });
      this.labels.push(value ?? Number.NaN);
    } else {
      this.labels.push(this.labelId(labelCell));
    }
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

function parseNumericRows(text: string, source: string, minimumWidth: number, widthDescription: string): number[][] {
  const problems = new ProblemList(source, DEFAULT_MAX_PROBLEMS);
  const rows: number[][] = [];
  let width = -1;
  let line = 0;
  for (let start = 0; start <= text.length;) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const content = text.slice(start, end);
    start = end + 1;
    line++;
    if (!/\S/.test(content)) continue;
    const cells = content.split(',');
    if (width === -1) {
      width = cells.length;
      if (width < minimumWidth)
        problems.fail({ row: line, message: `expected ${widthDescription}, got ${width} field` });
    } else if (cells.length !== width) {
      problems.add({ row: line, message: `expected ${width} fields like the first row, got ${cells.length}` });
      continue;
    }
    const values = new Array<number>(width);
    for (let j = 0; j < width; j++) {
      const value = parseFiniteNumber(cells[j]);
      if (value === undefined) problems.add({ row: line, columnIndex: j + 1, message: notANumberMessage(cells[j]) });
      else values[j] = value;
    }
    rows.push(values);
  }
  if (width === -1) problems.fail({ message: 'is empty' });
  problems.throwIfAny();
  return rows;
}

/** Plain decimal notation only: no hex, no "Infinity", no "NaN", no empty cell. */
function parseFiniteNumber(cell: string): number | undefined {
  const text = cell.trim();
  if (!FINITE_DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function notANumberMessage(cell: string): string {
  const text = cell.trim();
  return text === '' ? 'expected a finite number, got an empty cell' : `expected a finite number, got ${quote(text)}`;
}

function writableNumber(value: number, row: number, what: string): string {
  if (!Number.isFinite(value)) throw new RangeError(`row ${row}, ${what}: ${value} is not a finite number`);
  return String(value);
}

function quote(value: string): string {
  const shown = value.length > MAX_VALUE_SHOWN ? `${value.slice(0, MAX_VALUE_SHOWN)}…` : value;
  return JSON.stringify(shown);
}
