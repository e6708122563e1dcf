import { mapOrdered } from './concurrency';
import { EvaluationError } from './errors';
import { stringify } from 'csv-stringify/sync';
import {
  ClassificationAccumulator,
  classificationMetrics,
  RegressionAccumulator,
  regressionMetrics,
  type ClassificationMetrics,
  type MetricsAccumulator,
  type RegressionMetrics,
} from './metrics';
import type { EvaluationConfig, PredictorType, RunConfig } from './runConfig';

/** InvokeEndpoint accepts at most 6 MiB each way; stay clearly below it. */
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
/** Few enough parallel InvokeEndpoint calls to stay polite to one endpoint instance, enough to hide latency. */
export const MAX_CONCURRENT_INVOCATIONS = 4;
/** A prediction such as {"predicted_label":12.0} costs about 30 bytes of response; bound rows so replies fit too. */
export const MAX_ROWS_PER_REQUEST = Math.floor((5 * 1024 * 1024) / 40);
/** A serverless endpoint takes requests and gives responses under 4 MB: stay clearly below it too. */
export const SERVERLESS_MAX_REQUEST_BYTES = 3_500_000;

/** How much of the test channel one request (or one batch read in lockstep with a transform output) may carry. */
export interface BatchLimits {
  maxBytes: number;
  maxRows: number;
}

export const ENDPOINT_BATCH_LIMITS: BatchLimits = { maxBytes: MAX_REQUEST_BYTES, maxRows: MAX_ROWS_PER_REQUEST };
export const SERVERLESS_BATCH_LIMITS: BatchLimits = {
  maxBytes: SERVERLESS_MAX_REQUEST_BYTES,
  maxRows: Math.floor(SERVERLESS_MAX_REQUEST_BYTES / 40),
};

/**
 * How Evaluate calls an endpoint of the run's evaluation mode: the request limits, and how many calls at a time
 * (a serverless endpoint answers at most MaxConcurrency at once and throttles the rest).
 */
export function invocationPlan(evaluation: EvaluationConfig): { limits: BatchLimits; concurrency: number } {
  if (evaluation.mode === 'serverless') {
    return {
      limits: SERVERLESS_BATCH_LIMITS,
      concurrency: Math.min(MAX_CONCURRENT_INVOCATIONS, evaluation.serverless.maxConcurrency),
    };
  }
  return { limits: ENDPOINT_BATCH_LIMITS, concurrency: MAX_CONCURRENT_INVOCATIONS };
}

export interface Batch {
  firstRow: number;
  rowCount: number;
  body: string;
}

/** The test channel as evaluation needs it: numeric labels, and each row's features as the text the channel holds. */
export interface TestChannel {
  labels: number[];
  /** The features of each row exactly as written (the line after its label): sent to the endpoint as they are. */
  featureLines: string[];
  featureCount: number;
}

/** Checks one line of a label-first, headerless channel: a numeric label, then as many features as the first row. */
class TestRowParser {
  featureCount = -1;

  constructor(private readonly source: string) {}

  /** The label and the features as written (the line after its label); undefined for an empty line. */
  parse(line: string, row: number): { label: number; features: string } | undefined {
    if (line.length === 0) return undefined;
    const comma = line.indexOf(',');
    const label = Number(comma === -1 ? line : line.slice(0, comma));
    if (comma === -1 || !Number.isFinite(label)) {
      throw new EvaluationError(
        `${this.source}: row ${row}: expected a numeric label followed by the features, got "${line.slice(0, 80)}"`,
      );
    }
    let commas = 0;
    for (let i = comma + 1; i < line.length; i++) if (line.charCodeAt(i) === 44) commas += 1;
    if (this.featureCount === -1) this.featureCount = commas + 1;
    else if (commas + 1 !== this.featureCount) {
      throw new EvaluationError(
        `${this.source}: row ${row}: expected ${this.featureCount} features like the first row, got ${commas + 1}`,
      );
    }
    return { label, features: line.slice(comma + 1) };
  }
}

/**
 * Reads a label-first, headerless channel in one pass without converting the features to numbers: they are only
 * forwarded to the endpoint and into predictions.csv. Rows must all have the same width; labels must be numbers.
 * (Whole-text form, for small channels and as the oracle of the streaming reader testBatches.)
 */
export function parseTestChannel(text: string, source: string): TestChannel {
  const parser = new TestRowParser(source);
  const labels: number[] = [];
  const featureLines: string[] = [];
  let start = 0;
  let row = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    row += 1;
    const parsed = parser.parse(line, row);
    if (!parsed) continue;
    labels.push(parsed.label);
    featureLines.push(parsed.features);
  }
  return { labels, featureLines, featureCount: Math.max(parser.featureCount, 0) };
}

/** Groups test rows (feature text, one row each) into as few text/csv request bodies as the payload limits allow. */
export function planBatches(
  featureLines: string[],
  maxBytes = MAX_REQUEST_BYTES,
  maxRows = MAX_ROWS_PER_REQUEST,
): Batch[] {
  const batches: Batch[] = [];
  let lines: string[] = [];
  let bytes = 0;
  let firstRow = 0;
  const flush = () => {
    if (lines.length === 0) return;
    batches.push({ firstRow, rowCount: lines.length, body: `${lines.join('\n')}\n` });
    firstRow += lines.length;
    lines = [];
    bytes = 0;
  };
  for (const line of featureLines) {
    const lineBytes = Buffer.byteLength(line) + 1;
    if (lineBytes > maxBytes)
      throw new EvaluationError(`A single test row is ${lineBytes} bytes, above the ${maxBytes}-byte request limit`);
    if (bytes + lineBytes > maxBytes || lines.length >= maxRows) flush();
    lines.push(line);
    bytes += lineBytes;
  }
  flush();
  return batches;
}

/** Reads `{"predictions":[{"predicted_label":…}]}` and checks one prediction came back per row sent. */
export function parsePredictions(body: string, expectedRows: number): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new EvaluationError(`Endpoint answered with non-JSON: ${body.slice(0, 200)}`, { cause: error });
  }
  const predictions = (parsed as { predictions?: { predicted_label?: unknown }[] })?.predictions;
  if (!Array.isArray(predictions))
    throw new EvaluationError(`Endpoint answer has no "predictions" list: ${body.slice(0, 200)}`);
  if (predictions.length !== expectedRows) {
    throw new EvaluationError(`Endpoint returned ${predictions.length} predictions for ${expectedRows} rows`);
  }
  return predictions.map((prediction, index) => {
    const label = Number(prediction?.predicted_label);
    if (!Number.isFinite(label)) throw new EvaluationError(`Prediction ${index} has no numeric predicted_label`);
    return label;
  });
}

export interface GateResult {
  metric: string;
  threshold: number;
  direction: 'min' | 'max';
  value: number | null;
  passed: boolean;
  message: string;
}

export function checkQualityGate(gate: RunConfig['qualityGate'], metrics: Record<string, unknown>): GateResult {
  const raw = metrics[gate.metric];
  const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
  const passed = value !== null && (gate.direction === 'min' ? value >= gate.threshold : value <= gate.threshold);
  const relation = gate.direction === 'min' ? 'at least' : 'at most';
  const message = passed
    ? `Quality gate passed: ${gate.metric} ${value} is ${relation} ${gate.threshold}.`
    : `Quality gate not met: ${gate.metric} ${value ?? 'is missing'} but must be ${relation} ${gate.threshold}. ` +
      'The model was evaluated and its SageMaker resources deleted; see metrics.json and predictions.csv under the run prefix, then adjust the data or hyperparameters (e.g. k) and start a new run.';
  return { metric: gate.metric, threshold: gate.threshold, direction: gate.direction, value, passed, message };
}

export interface NamedClassMetrics {
  label: string;
  index: number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export type EvaluationMetrics =
  (Omit<ClassificationMetrics, 'perClass'> & { perClass: NamedClassMetrics[] }) | RegressionMetrics;

export function computeMetrics(
  predictorType: PredictorType,
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: string[] | null,
): EvaluationMetrics {
  if (predictorType === 'regressor') return regressionMetrics(truth, predicted);
  return namedMetrics(classificationMetrics(truth, predicted, (classes ?? []).length || undefined), classes);
}

/** A classifier's per-class entries named after the classes (index kept); a regressor's metrics as they are. */
function namedMetrics(metrics: ClassificationMetrics | RegressionMetrics, classes: string[] | null): EvaluationMetrics {
  if (!('perClass' in metrics)) return metrics;
  const names = classes ?? [];
  return {
    ...metrics,
    perClass: metrics.perClass.map((entry) => ({
      ...entry,
      index: entry.label,
      label: names[entry.label] ?? String(entry.label),
    })),
  };
}

/** The validation table: each test row with its features, true and predicted label, and whether they match. */
export function predictionsCsv(
  predictorType: PredictorType,
  featureNames: string[],
  featureLines: string[],
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: string[] | null,
): string {
  return (
    predictionsCsvHeader(predictorType, featureNames) +
    predictionsCsvRows(predictorType, { firstRow: 0, featureLines, labels: truth, predicted }, classes)
  );
}

/** The first line of predictions.csv. */
export function predictionsCsvHeader(predictorType: PredictorType, featureNames: string[]): string {
  const header =
    predictorType === 'classifier'
      ? ['row', ...featureNames, 'true_label', 'predicted_label', 'match']
      : ['row', ...featureNames, 'true_value', 'predicted_value', 'error'];
  return stringify([header]);
}

/** The lines of predictions.csv for one batch of scored rows (`row` counts from the batch's first row). */
export function predictionsCsvRows(
  predictorType: PredictorType,
  batch: Pick<ScoredBatch, 'firstRow' | 'featureLines' | 'labels' | 'predicted'>,
  classes: string[] | null,
): string {
  const name = (value: number) => (classes ? (classes[value] ?? `unknown(${value})`) : String(value));
  const { featureLines, labels: truth, predicted, firstRow } = batch;
  const rows = featureLines.map((line, index) => {
    const row = line.split(',');
    return predictorType === 'classifier'
      ? [
          firstRow + index,
          ...row,
          name(truth[index]),
          name(predicted[index]),
          String(truth[index] === predicted[index]),
        ]
      : [firstRow + index, ...row, truth[index], predicted[index], predicted[index] - truth[index]];
  });
  return stringify(rows);
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming: the test channel read batch by batch, scored, and accumulated; never the whole channel as strings
// ---------------------------------------------------------------------------------------------------------------

/** A group of test rows: their labels, their feature text, and the text/csv request body made of them. */
export interface TestBatch {
  /** Index of the batch's first row among the channel's rows (empty lines not counted). */
  firstRow: number;
  rowCount: number;
  labels: Float64Array;
  featureLines: string[];
  body: string;
}

/** Test rows with what the model predicted for each. */
export interface ScoredBatch {
  firstRow: number;
  labels: ArrayLike<number>;
  featureLines: string[];
  predicted: ArrayLike<number>;
}

/**
 * The lines of a UTF-8 byte stream, a group per chunk (one await per chunk, not per line); without their "\n" and
 * a "\r" before it, as parseTestChannel splits them. A last line without a newline is a line too.
 */
export async function* lineGroups(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  const strip = (line: string) => (line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line);
  for await (const chunk of chunks) {
    const text = pending + decoder.decode(chunk, { stream: true });
    const lines: string[] = [];
    let start = 0;
    let end: number;
    while ((end = text.indexOf('\n', start)) !== -1) {
      lines.push(strip(text.slice(start, end)));
      start = end + 1;
    }
    pending = text.slice(start);
    if (lines.length) yield lines;
  }
  const rest = pending + decoder.decode();
  if (rest.length > 0) yield [strip(rest)];
}

/**
 * The test channel as request-sized batches, read as it streams: each batch holds at most `maxRows` rows and its
 * body at most `maxBytes`, rows never split; the same checks and messages as parseTestChannel.
 */
export async function* testBatches(
  chunks: AsyncIterable<Uint8Array>,
  source: string,
  limits: BatchLimits,
): AsyncGenerator<TestBatch> {
  const parser = new TestRowParser(source);
  let labels: number[] = [];
  let features: string[] = [];
  let bytes = 0;
  let firstRow = 0;
  const flush = (): TestBatch => {
    const batch = {
      firstRow,
      rowCount: features.length,
      labels: Float64Array.from(labels),
      featureLines: features,
      body: `${features.join('\n')}\n`,
    };
    firstRow += features.length;
    labels = [];
    features = [];
    bytes = 0;
    return batch;
  };
  let row = 0;
  for await (const lines of lineGroups(chunks)) {
    for (const line of lines) {
      row += 1;
      const parsed = parser.parse(line, row);
      if (!parsed) continue;
      const lineBytes = Buffer.byteLength(parsed.features) + 1;
      if (lineBytes > limits.maxBytes)
        throw new EvaluationError(
          `${source}: row ${row} is ${lineBytes} bytes, above the ${limits.maxBytes}-byte request limit`,
        );
      if (bytes + lineBytes > limits.maxBytes || features.length >= limits.maxRows) yield flush();
      labels.push(parsed.label);
      features.push(parsed.features);
      bytes += lineBytes;
    }
  }
  if (features.length) yield flush();
}

/** Longest text of one transformed feature (a float64 in shortest form, sign and exponent included) and its comma. */
const TRANSFORMED_FEATURE_BYTES = 25;

/**
 * Limits for raw rows whose request body is their transformed features (`width` each): few enough rows that the
 * transformed body stays within the byte limit too.
 */
export function transformedBatchLimits(limits: BatchLimits, width: number): BatchLimits {
  return {
    maxBytes: limits.maxBytes,
    maxRows: Math.max(1, Math.min(limits.maxRows, Math.floor(limits.maxBytes / (TRANSFORMED_FEATURE_BYTES * width)))),
  };
}

/**
 * Batches of raw rows whose request body holds each row's features transformed (`transformFeatures`: a row's raw
 * feature text → the text the model expects); the rows themselves, for predictions.csv, stay raw.
 */
export async function* transformedBatches(
  batches: AsyncIterable<TestBatch>,
  transformFeatures: (features: string, row: number) => string,
): AsyncGenerator<TestBatch> {
  for await (const batch of batches) {
    let body = '';
    batch.featureLines.forEach((line, index) => (body += `${transformFeatures(line, batch.firstRow + index)}\n`));
    yield { ...batch, body };
  }
}

/** Each batch scored by `predict` (an endpoint call), `concurrency` at a time, in row order. */
export function scoreBatches(
  batches: AsyncIterable<TestBatch>,
  concurrency: number,
  predict: (batch: TestBatch) => Promise<ArrayLike<number>>,
): AsyncGenerator<ScoredBatch> {
  return mapOrdered(batches, concurrency, async (batch) => {
    const predicted = await predict(batch);
    return { firstRow: batch.firstRow, labels: batch.labels, featureLines: batch.featureLines, predicted };
  });
}

/** Non-empty lines of a byte stream, taken a number at a time. */
class LineReader {
  private lines: string[] = [];
  private index = 0;
  private ended = false;
  /** Non-empty lines handed out so far. */
  taken = 0;

  constructor(private readonly groups: AsyncIterator<string[]>) {}

  /** The next `count` non-empty lines; fewer only at the end of the stream. */
  async take(count: number): Promise<string[]> {
    const out: string[] = [];
    while (out.length < count) {
      if (this.index >= this.lines.length) {
        if (this.ended) break;
        const next = await this.groups.next();
        if (next.done) {
          this.ended = true;
          break;
        }
        this.lines = next.value;
        this.index = 0;
        continue;
      }
      const line = this.lines[this.index++];
      if (line.trim().length > 0) out.push(line);
    }
    this.taken += out.length;
    return out;
  }
}

/** One line of a k-NN JSON Lines answer, `{"predicted_label": 2.0}`. */
export function parsePredictionLine(line: string, prediction: number, source: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new EvaluationError(`${source}: prediction ${prediction} is not JSON: ${line.slice(0, 200)}`, {
      cause: error,
    });
  }
  const label = Number((parsed as { predicted_label?: unknown } | null)?.predicted_label);
  if (!Number.isFinite(label))
    throw new EvaluationError(
      `${source}: prediction ${prediction} has no numeric predicted_label: ${line.slice(0, 200)}`,
    );
  return label;
}

/**
 * A batch transform's output read in lockstep with the test channel it was made from: prediction i (the i-th
 * non-empty JSON line of `<input>.out`, SplitType Line + AssembleWith Line keep the order) belongs to row i. Both are
 * streamed; a count that differs either way is an error, never a partial score.
 */
export async function* transformOutputBatches(
  test: AsyncIterable<Uint8Array>,
  output: AsyncIterable<Uint8Array>,
  sources: { test: string; output: string },
  limits: BatchLimits = ENDPOINT_BATCH_LIMITS,
): AsyncGenerator<ScoredBatch> {
  const predictions = new LineReader(lineGroups(output)[Symbol.asyncIterator]());
  let rows = 0;
  for await (const batch of testBatches(test, sources.test, limits)) {
    const first = predictions.taken;
    const lines = await predictions.take(batch.rowCount);
    rows += batch.rowCount;
    if (lines.length < batch.rowCount) {
      throw new EvaluationError(
        `${sources.output} has ${predictions.taken} predictions but ${sources.test} has at least ${rows} rows: ` +
          'the transform output does not belong to this test channel (or was cut short)',
      );
    }
    const predicted = new Float64Array(lines.length);
    for (let i = 0; i < lines.length; i++) predicted[i] = parsePredictionLine(lines[i], first + i + 1, sources.output);
    yield { firstRow: batch.firstRow, labels: batch.labels, featureLines: batch.featureLines, predicted };
  }
  const extra = await predictions.take(1);
  if (extra.length > 0) {
    throw new EvaluationError(
      `${sources.output} has more predictions than the ${rows} rows of ${sources.test}: ` +
        'the transform output does not belong to this test channel',
    );
  }
}

/** Rows of predictions.csv built and written at a time. */
const PREDICTION_ROWS_PER_WRITE = 4096;

function sliceOfBatch(batch: ScoredBatch, start: number, count: number): ScoredBatch {
  const end = Math.min(start + count, batch.featureLines.length);
  const slice = (values: ArrayLike<number>) => Array.from({ length: end - start }, (_, i) => values[start + i]);
  return {
    firstRow: batch.firstRow + start,
    featureLines: batch.featureLines.slice(start, end),
    labels: slice(batch.labels),
    predicted: slice(batch.predicted),
  };
}

/** What one pass over the scored test rows gave: the metrics, and how many rows and batches it took. */
export interface EvaluationPass {
  metrics: EvaluationMetrics;
  rows: number;
  batches: number;
}

/**
 * Scores a stream of batches incrementally (a confusion matrix, or running sums), and writes predictions.csv as it
 * goes when `write` is given (awaited: the writer's backpressure paces the pass). Equal to computeMetrics and
 * predictionsCsv over the whole arrays.
 */
export async function evaluateBatches(
  scored: AsyncIterable<ScoredBatch>,
  options: {
    predictorType: PredictorType;
    classes: string[] | null;
    featureNames: string[];
    write?: (text: string) => Promise<void>;
  },
): Promise<EvaluationPass> {
  const { predictorType, classes, write } = options;
  const accumulator: MetricsAccumulator<ClassificationMetrics | RegressionMetrics> =
    predictorType === 'regressor'
      ? new RegressionAccumulator()
      : new ClassificationAccumulator((classes ?? []).length || undefined);
  if (write) await write(predictionsCsvHeader(predictorType, options.featureNames));
  let batches = 0;
  for await (const batch of scored) {
    accumulator.add(batch.labels, batch.predicted);
    // A request's worth of rows as CSV cells at once would be tens of MB of short-lived arrays: a slice at a time.
    for (let start = 0; write && start < batch.featureLines.length; start += PREDICTION_ROWS_PER_WRITE) {
      await write(predictionsCsvRows(predictorType, sliceOfBatch(batch, start, PREDICTION_ROWS_PER_WRITE), classes));
    }
    batches += 1;
  }
  return { metrics: namedMetrics(accumulator.result(), classes), rows: accumulator.rows, batches };
}
