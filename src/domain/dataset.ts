// Reads a user's CSV (header row, one label column) into numbers, or says exactly which rows and cells are wrong;
// writes and reads the headerless label-first CSV of the channels.
import {
  DatasetError,
  type DatasetProblem,
  DEFAULT_MAX_PROBLEMS,
  notANumberMessage,
  parseFiniteNumber,
  ProblemList,
} from './datasetProblems';
import { DatasetReader, type PrepareDatasetOptions, type PreparedSummary, readDatasetText } from './datasetReader';

import type { PredictorType } from '../artifacts/predictorType';
export type { PredictorType };
export { DatasetError, DatasetReader };
export type { DatasetProblem, PrepareDatasetOptions, PreparedSummary };

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

/**
 * The whole dataset in memory, for tests and tools: DatasetReader over one chunk (a string is read as text), with
 * the features read back from the prepared text. That text is what the channels hold, so a cell "-0" reads as 0.
 */
export function prepareDataset(raw: Uint8Array | string, options: PrepareDatasetOptions): PreparedDataset {
  let text: string;
  let summary: PreparedSummary;
  if (typeof raw === 'string') ({ text, summary } = readDatasetText(raw, options));
  else {
    const reader = new DatasetReader(options);
    const head = reader.push(raw);
    const end = reader.finish();
    text = head + end.text;
    summary = end.summary;
  }
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  return {
    featureNames: summary.featureNames,
    labelColumn: summary.labelColumn,
    predictorType: summary.predictorType,
    classes: summary.classes,
    labels: Array.from(summary.labels),
    features: lines.map((line) => line.split(',').map(Number)),
    rowCount: summary.rowCount,
    warnings: summary.warnings,
  };
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

function writableNumber(value: number, row: number, what: string): string {
  if (!Number.isFinite(value)) throw new RangeError(`row ${row}, ${what}: ${value} is not a finite number`);
  return String(value);
}
