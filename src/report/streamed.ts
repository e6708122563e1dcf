// What the report keeps of the big files it reads, whole or as a stream: predictions.csv (every test row) and the
// prepared dataset (features.csv and labels.f64). Exact counts, the rows the validation table lists, and seeded
// uniform samples for the charts; every other row is counted and classified from its bytes and never decoded.
import { parse } from 'csv-parse/sync';
import type { ByteSource } from './artifacts';
import { ReportInputError } from './errors';
import { Float64Splitter, RecordSplitter } from './records';
import {
  MAX_HISTOGRAM_VALUES,
  MAX_REGRESSION_CHART_POINTS,
  MAX_SCATTER_FEATURES,
  MAX_SCATTER_POINTS,
  MAX_VALIDATION_ROWS,
  ReservoirSample,
  sampleKey,
} from './sampling';
import type {
  ClassifiedRow,
  FeatureRows,
  LabelledPoint,
  PredictorType,
  RegressedRow,
  SampleOrigin,
  ValidationDigest,
} from './types';

const CLASSIFIER_COLUMNS = ['true_label', 'predicted_label', 'match'];
const REGRESSOR_COLUMNS = ['true_value', 'predicted_value', 'error'];
const COMMA = 0x2c;
/** A regression row is highlighted when its absolute error is in the worst tenth. */
export const LARGE_ERROR_SHARE = 0.1;

/** A feature cell: a number, or (categorical columns kept as text) NaN, which the charts leave out. */
function featureValue(text: string, where: string, textFeatures: boolean): number {
  return textFeatures ? Number(text) : number(text, where);
}

function number(text: string, where: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new ReportInputError(`predictions.csv ${where}: "${text}" is not a number`);
  return value;
}

/** The cells of one CSV record; the quoted ones (class names with commas, quotes or newlines) through csv-parse. */
function cells(text: string): string[] {
  return text.includes('"') ? ((parse(text) as string[][])[0] ?? []) : text.split(',');
}

/** The columns of predictions.csv's header, checked against the predictor type: how many features it has. */
export function predictionsFeatureCount(header: string[] | undefined, predictorType: PredictorType): number {
  const expected = predictorType === 'classifier' ? CLASSIFIER_COLUMNS : REGRESSOR_COLUMNS;
  if (!header || header[0] !== 'row' || header.slice(-3).join() !== expected.join()) {
    const wanted = `row, <features…>, ${expected.join(', ')}`;
    throw new ReportInputError(
      `predictions.csv of a ${predictorType} must have the columns ${wanted}; got ${header?.join(', ')}`,
    );
  }
  return header.length - 4;
}

/** One record of predictions.csv (`index` 0-based, after the header) as the report's row. */
export function predictionRow(
  record: string[],
  featureCount: number,
  predictorType: PredictorType,
  index: number,
  textFeatures = false,
): ClassifiedRow | RegressedRow {
  const where = `record ${index + 1}`;
  const features = record.slice(1, 1 + featureCount).map((cell) => featureValue(cell, where, textFeatures));
  const [truth, predicted, last] = record.slice(-3);
  const row = number(record[0], where);
  return predictorType === 'classifier'
    ? { row, features, trueLabel: truth, predictedLabel: predicted, match: last === 'true' }
    : {
        row,
        features,
        trueValue: number(truth, where),
        predictedValue: number(predicted, where),
        error: number(last, where),
      };
}

/** Whether a classifier's record ends with the match cell `true` (the bytes `,true`), without decoding it. */
function endsWithTrue(bytes: Buffer, start: number, end: number): boolean {
  return (
    end - start >= 5 &&
    bytes[end - 1] === 0x65 && // e
    bytes[end - 2] === 0x75 && // u
    bytes[end - 3] === 0x72 && // r
    bytes[end - 4] === 0x74 && // t
    bytes[end - 5] === COMMA
  );
}

/** The last cell of a record (match or error: never quoted), as text. */
function lastCell(bytes: Buffer, start: number, end: number): string {
  const comma = bytes.lastIndexOf(COMMA, end - 1);
  return bytes.toString('latin1', comma < start ? start : comma + 1, end);
}

/** The k-th largest of `values` (k ≥ 1), as the threshold of the worst tenth; sorts `values` in place. */
function largeErrorThreshold(values: Float64Array): number {
  const flagged = Math.max(1, Math.floor(values.length * LARGE_ERROR_SHARE));
  values.sort();
  const kth = values.length >= flagged ? values[values.length - flagged] : Infinity;
  return Math.max(kth, Number.MIN_VALUE);
}

/** A growable list of float64 values: 8 bytes per value and no JS objects. */
class Float64List {
  private values = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  view(): Float64Array {
    return this.values.subarray(0, this.length);
  }
}

type Row = ClassifiedRow | RegressedRow;

/** What predictions.csv gives the report. */
export interface PredictionsDigest {
  validation: Row[];
  digest: ValidationDigest<Row>;
  /** A uniform sample of the test rows' features and true targets, for a scatter matrix without the dataset. */
  testPoints: FeatureRows;
}

/**
 * First pass over predictions.csv: counts the rows and the misses, keeps the first misses and the first other rows
 * (the validation table, as the whole file would give it), seeded reservoir samples for the charts, and for a
 * regressor every row's absolute error (8 bytes a row: the worst tenth's threshold is exact).
 */
class PredictionsPass {
  /** Features per row, from the header (-1 until the header has been read). */
  featureCount = -1;
  rows = 0;
  notable = 0;
  readonly firstNotable: Row[] = [];
  readonly firstOthers: Row[] = [];
  readonly chart: ReservoirSample<Row>;
  readonly points: ReservoirSample<LabelledPoint>;
  readonly targets: ReservoirSample<number>;
  readonly absoluteErrors = new Float64List();
  readonly splitter = new RecordSplitter((bytes, start, end) => this.record(bytes, start, end), true);

  constructor(
    private readonly predictorType: PredictorType,
    readonly seed: number,
    private readonly withTestPoints: boolean,
    private readonly textFeatures = false,
  ) {
    this.chart = new ReservoirSample(MAX_REGRESSION_CHART_POINTS, seed);
    this.points = new ReservoirSample(withTestPoints ? MAX_SCATTER_POINTS : 0, seed);
    this.targets = new ReservoirSample(
      withTestPoints && predictorType === 'regressor' ? MAX_HISTOGRAM_VALUES : 0,
      seed,
    );
  }

  private parse(bytes: Buffer, start: number, end: number, index: number): Row {
    return predictionRow(
      cells(bytes.toString('utf8', start, end)),
      this.featureCount,
      this.predictorType,
      index,
      this.textFeatures,
    );
  }

  private record(bytes: Buffer, start: number, end: number): void {
    if (this.featureCount < 0) {
      this.featureCount = predictionsFeatureCount(cells(bytes.toString('utf8', start, end)), this.predictorType);
      return;
    }
    // Most rows are only counted and classified from their bytes; a row is decoded when something keeps it.
    const index = this.rows++;
    let row: Row | undefined;
    if (this.predictorType === 'classifier') {
      const match = endsWithTrue(bytes, start, end);
      if (!match) this.notable += 1;
      const list = match ? this.firstOthers : this.firstNotable;
      if (list.length < MAX_VALIDATION_ROWS) list.push((row = this.parse(bytes, start, end, index)));
    } else {
      this.absoluteErrors.push(Math.abs(number(lastCell(bytes, start, end), `record ${index + 1}`)));
    }
    const key = sampleKey(this.seed, index);
    if (this.chart.offer(index, key)) this.chart.add(index, (row ??= this.parse(bytes, start, end, index)), key);
    const point = this.points.offer(index, key);
    const target = this.targets.offer(index, key);
    if (point || target) {
      row ??= this.parse(bytes, start, end, index);
      const truth = 'trueLabel' in row ? row.trueLabel : row.trueValue;
      if (point) this.points.add(index, { features: row.features, target: truth }, key);
      if (target) this.targets.add(index, Number(truth), key);
    }
  }

  /** Ends the pass: the header must have been there. */
  end(): void {
    this.splitter.end();
    if (this.featureCount < 0) predictionsFeatureCount(undefined, this.predictorType);
  }

  /** The regressor's rows the table lists, by row index: first the notable ones, then the others. */
  regressorTable(): { threshold: number; notable: number; wanted: Map<number, boolean> } {
    const errors = this.absoluteErrors.view();
    const threshold = largeErrorThreshold(errors.slice());
    let notable = 0;
    for (let index = 0; index < errors.length; index++) if (errors[index] >= threshold) notable += 1;
    // As pickRows does on the whole table: the first notable rows, then the first others to fill it.
    const notableShown = Math.min(notable, MAX_VALIDATION_ROWS);
    const othersShown = Math.min(errors.length - notable, MAX_VALIDATION_ROWS - notableShown);
    const wanted = new Map<number, boolean>();
    let notableWanted = 0;
    let othersWanted = 0;
    for (let index = 0; index < errors.length; index++) {
      if (notableWanted === notableShown && othersWanted === othersShown) break;
      if (errors[index] >= threshold) {
        if (notableWanted < notableShown) {
          wanted.set(index, true);
          notableWanted += 1;
        }
      } else if (othersWanted < othersShown) {
        wanted.set(index, false);
        othersWanted += 1;
      }
    }
    return { threshold, notable, wanted };
  }

  origin(sampled: { seen: number }, kept: number): SampleOrigin | undefined {
    return sampled.seen > kept ? { rows: sampled.seen, seed: this.seed } : undefined;
  }
}

/** Second pass (regressor only): parses the rows the table lists, and stops reading once it has them all. */
class TablePass {
  private header = true;
  private index = 0;
  readonly rows = new Map<number, Row>();
  readonly splitter = new RecordSplitter((bytes, start, end) => this.record(bytes, start, end), true);

  constructor(
    private readonly wanted: Map<number, boolean>,
    private readonly featureCount: number,
    private readonly predictorType: PredictorType,
    private readonly textFeatures = false,
  ) {}

  get done(): boolean {
    return this.rows.size === this.wanted.size;
  }

  private record(bytes: Buffer, start: number, end: number): void {
    if (this.header) {
      this.header = false;
      return;
    }
    const index = this.index++;
    if (this.wanted.has(index) && !this.rows.has(index))
      this.rows.set(
        index,
        predictionRow(
          cells(bytes.toString('utf8', start, end)),
          this.featureCount,
          this.predictorType,
          index,
          this.textFeatures,
        ),
      );
  }
}

async function drain(
  source: ByteSource,
  splitter: { push(chunk: Uint8Array): void },
  stop?: () => boolean,
): Promise<void> {
  for await (const chunk of source()) {
    splitter.push(chunk);
    if (stop?.()) return;
  }
}

function finish(pass: PredictionsPass, table?: { threshold: number; notable: number; rows: Row[] }): PredictionsDigest {
  const validation = pass.chart.values();
  const digest: ValidationDigest<Row> = {
    testRows: pass.rows,
    notableRows: table ? table.notable : pass.notable,
    tableRows: table ? table.rows : [...pass.firstNotable, ...pass.firstOthers].slice(0, MAX_VALIDATION_ROWS),
    ...(table ? { largeErrorThreshold: table.threshold } : {}),
  };
  const sampledFrom = pass.origin(pass.chart, validation.length);
  if (sampledFrom) digest.sampledFrom = sampledFrom;
  const points = pass.points.values();
  const testPoints: FeatureRows = { origin: 'test rows', points };
  const pointsFrom = pass.origin(pass.points, points.length);
  if (pointsFrom) testPoints.sampledFrom = pointsFrom;
  if (pass.targets.capacity > 0) {
    const values = pass.targets.values();
    const targetsFrom = pass.origin(pass.targets, values.length);
    testPoints.targets = { values, ...(targetsFrom ? { sampledFrom: targetsFrom } : {}) };
  }
  return { validation, digest, testPoints };
}

function tableRows(wanted: Map<number, boolean>, rows: Map<number, Row>): Row[] {
  const order = [...wanted.keys()].sort((a, b) => a - b);
  return [...order.filter((index) => wanted.get(index)), ...order.filter((index) => !wanted.get(index))].map(
    (index) => {
      const row = rows.get(index);
      if (!row) throw new ReportInputError(`predictions.csv changed while the report read it (record ${index + 1})`);
      return row;
    },
  );
}

/** predictions.csv read from a stream (twice for a regressor: its table needs the worst tenth's threshold first). */
export async function digestPredictions(
  source: ByteSource,
  predictorType: PredictorType,
  seed: number,
  withTestPoints: boolean,
  /** Some features are categorical text (feature engineering): they read as NaN instead of failing. */
  textFeatures = false,
): Promise<PredictionsDigest> {
  const pass = new PredictionsPass(predictorType, seed, withTestPoints, textFeatures);
  await drain(source, pass.splitter);
  pass.end();
  if (predictorType === 'classifier') return finish(pass);
  const { threshold, notable, wanted } = pass.regressorTable();
  const second = new TablePass(wanted, pass.featureCount, predictorType, textFeatures);
  if (wanted.size > 0) await drain(source, second.splitter, () => second.done);
  second.splitter.end();
  return finish(pass, { threshold, notable, rows: tableRows(wanted, second.rows) });
}

/** predictions.csv at hand as bytes: the same digest, without streams. */
export function digestPredictionsBytes(
  bytes: Uint8Array,
  predictorType: PredictorType,
  seed: number,
  withTestPoints: boolean,
  textFeatures = false,
): PredictionsDigest {
  const pass = new PredictionsPass(predictorType, seed, withTestPoints, textFeatures);
  pass.splitter.push(bytes);
  pass.end();
  if (predictorType === 'classifier') return finish(pass);
  const { threshold, notable, wanted } = pass.regressorTable();
  const second = new TablePass(wanted, pass.featureCount, predictorType, textFeatures);
  second.splitter.push(bytes);
  second.splitter.end();
  return finish(pass, { threshold, notable, rows: tableRows(wanted, second.rows) });
}

/** The features of one row of prepared/features.csv, as many as the scatter matrix draws. */
function scatterFeatures(bytes: Buffer, start: number, end: number, index: number, textFeatures: boolean): number[] {
  return bytes
    .toString('latin1', start, end)
    .split(',', MAX_SCATTER_FEATURES)
    .map((cell) => {
      const value = Number(cell);
      if (!textFeatures && (cell.trim() === '' || !Number.isFinite(value)))
        throw new ReportInputError(`prepared/features.csv row ${index + 1}: "${cell}" is not a number`);
      return value;
    });
}

/** prepared/features.csv: counts the rows and keeps a seeded uniform sample of them. */
class FeaturesPass {
  rows = 0;
  readonly points: ReservoirSample<number[]>;
  readonly splitter = new RecordSplitter((bytes, start, end) => {
    const index = this.rows++;
    if (this.points.offer(index)) this.points.add(index, scatterFeatures(bytes, start, end, index, this.textFeatures));
  });

  constructor(
    seed: number,
    private readonly textFeatures = false,
  ) {
    this.points = new ReservoirSample(MAX_SCATTER_POINTS, seed);
  }
}

/**
 * prepared/labels.f64: the labels of the same sampled rows (the same keys pick the same rows, so the two files are
 * read side by side without waiting for each other), and for a regressor a larger sample of targets.
 */
class LabelsPass {
  readonly points: ReservoirSample<number>;
  readonly targets: ReservoirSample<number>;
  readonly splitter = new Float64Splitter((index, bytes, offset) => {
    const key = sampleKey(this.points.seed, index);
    const point = this.points.offer(index, key);
    const target = this.targets.offer(index, key);
    if (!point && !target) return;
    const value = bytes.readDoubleLE(offset);
    if (point) this.points.add(index, value, key);
    if (target) this.targets.add(index, value, key);
  });

  constructor(seed: number, regressor: boolean) {
    this.points = new ReservoirSample(MAX_SCATTER_POINTS, seed);
    this.targets = new ReservoirSample(regressor ? MAX_HISTOGRAM_VALUES : 0, seed);
  }
}

/** How the report names the prepared dataset's labels: class names by index, or the regressor's values. */
export interface DatasetShape {
  /** Rows the manifest says the dataset has. */
  rowCount: number;
  /** Class names by label index; null for a regressor. */
  classes: string[] | null;
}

function datasetRows(features: FeaturesPass, labels: LabelsPass, shape: DatasetShape, seed: number): FeatureRows {
  const leftOver = labels.splitter.end();
  const labelCount = labels.splitter.count;
  if (leftOver !== 0 || labelCount !== features.rows || features.rows !== shape.rowCount) {
    const labelText = leftOver ? `${labelCount} labels and ${leftOver} stray bytes` : `${labelCount} labels`;
    throw new ReportInputError(
      `prepared/features.csv has ${features.rows} rows and prepared/labels.f64 ${labelText}; ` +
        `the manifest says ${shape.rowCount} rows`,
    );
  }
  const labelOf = new Map(labels.points.entries());
  const name = (label: number) => (shape.classes ? (shape.classes[label] ?? String(label)) : label);
  const points = features.points.entries().map(([index, values]) => ({
    features: values,
    target: name(labelOf.get(index)!),
  }));
  const rows: FeatureRows = { origin: 'dataset', points };
  if (features.rows > points.length) rows.sampledFrom = { rows: features.rows, seed };
  if (!shape.classes) {
    const values = labels.targets.values();
    rows.targets = { values, ...(labelCount > values.length ? { sampledFrom: { rows: labelCount, seed } } : {}) };
  }
  return rows;
}

/** The prepared dataset read from its two streams at once. */
export async function digestDataset(
  features: ByteSource,
  labels: ByteSource,
  shape: DatasetShape,
  seed: number,
  textFeatures = false,
): Promise<FeatureRows> {
  const featuresPass = new FeaturesPass(seed, textFeatures);
  const labelsPass = new LabelsPass(seed, !shape.classes);
  await Promise.all([drain(features, featuresPass.splitter), drain(labels, labelsPass.splitter)]);
  featuresPass.splitter.end();
  return datasetRows(featuresPass, labelsPass, shape, seed);
}

/** The prepared dataset at hand as bytes: the same sample, without streams. */
export function digestDatasetBytes(
  features: Uint8Array,
  labels: Uint8Array,
  shape: DatasetShape,
  seed: number,
  textFeatures = false,
): FeatureRows {
  const featuresPass = new FeaturesPass(seed, textFeatures);
  const labelsPass = new LabelsPass(seed, !shape.classes);
  featuresPass.splitter.push(features);
  featuresPass.splitter.end();
  labelsPass.splitter.push(labels);
  return datasetRows(featuresPass, labelsPass, shape, seed);
}
