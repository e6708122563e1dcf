import { EvaluationError } from './errors';
import { stringify } from 'csv-stringify/sync';
import {
  classificationMetrics,
  regressionMetrics,
  type ClassificationMetrics,
  type RegressionMetrics,
} from './metrics';
import type { PredictorType, RunConfig } from './runConfig';

/** InvokeEndpoint accepts at most 6 MiB each way; stay clearly below it. */
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
/** Few enough parallel InvokeEndpoint calls to stay polite to one endpoint instance, enough to hide latency. */
export const MAX_CONCURRENT_INVOCATIONS = 4;
/** A prediction such as {"predicted_label":12.0} costs about 30 bytes of response; bound rows so replies fit too. */
export const MAX_ROWS_PER_REQUEST = Math.floor((5 * 1024 * 1024) / 40);

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

/**
 * Reads a label-first, headerless channel in one pass without converting the features to numbers: they are only
 * forwarded to the endpoint and into predictions.csv. Rows must all have the same width; labels must be numbers.
 */
export function parseTestChannel(text: string, source: string): TestChannel {
  const labels: number[] = [];
  const featureLines: string[] = [];
  let featureCount = -1;
  let start = 0;
  let row = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    row += 1;
    if (line.length === 0) continue;
    const comma = line.indexOf(',');
    const label = Number(comma === -1 ? line : line.slice(0, comma));
    if (comma === -1 || !Number.isFinite(label)) {
      throw new EvaluationError(
        `${source}: row ${row}: expected a numeric label followed by the features, got "${line.slice(0, 80)}"`,
      );
    }
    let commas = 0;
    for (let i = comma + 1; i < line.length; i++) if (line.charCodeAt(i) === 44) commas += 1;
    if (featureCount === -1) featureCount = commas + 1;
    else if (commas + 1 !== featureCount) {
      throw new EvaluationError(
        `${source}: row ${row}: expected ${featureCount} features like the first row, got ${commas + 1}`,
      );
    }
    labels.push(label);
    featureLines.push(line.slice(comma + 1));
  }
  return { labels, featureLines, featureCount: Math.max(featureCount, 0) };
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
  truth: number[],
  predicted: number[],
  classes: string[] | null,
): EvaluationMetrics {
  if (predictorType === 'regressor') return regressionMetrics(truth, predicted);
  const names = classes ?? [];
  const metrics = classificationMetrics(truth, predicted, names.length || undefined);
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
  truth: number[],
  predicted: number[],
  classes: string[] | null,
): string {
  const name = (value: number) => (classes ? (classes[value] ?? `unknown(${value})`) : String(value));
  const header =
    predictorType === 'classifier'
      ? ['row', ...featureNames, 'true_label', 'predicted_label', 'match']
      : ['row', ...featureNames, 'true_value', 'predicted_value', 'error'];
  const rows = featureLines.map((line, index) => {
    const row = line.split(',');
    return predictorType === 'classifier'
      ? [index, ...row, name(truth[index]), name(predicted[index]), String(truth[index] === predicted[index])]
      : [index, ...row, truth[index], predicted[index], predicted[index] - truth[index]];
  });
  return stringify([header, ...rows]);
}
