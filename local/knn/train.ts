/**
 * A local k-NN training job (reference A.2): validate, sample, build the index, score the optional test channel,
 * and log like the real container. Every customer mistake becomes a KnnClientError ("ClientError: …").
 *
 * Local choices (documented, not AWS facts):
 * - Sampling is seeded (`seed`, default 0), so a local job is reproducible; AWS samples differently.
 * - All index types are answered by exact search (see engine.ts), but FAISS's training preconditions are kept:
 *   IVF indexes need at least `faiss_index_ivf_nlists` sampled points, and `faiss.IVFPQ` needs at least 256 (its
 *   product quantizer trains 256-centroid codebooks), else the job fails as a FAISS index build would.
 * - `dimension_reduction_type=sign` is a seeded random sign projection (dimensionReduction.ts); `fjlt` is rejected.
 * - Classifier labels must be class indices (integers ≥ 0): the test score counts classes 0 … max label.
 * - A `test` channel, when given, must hold at least one row.
 */

import { parseLabelFirstCsv } from '../../src/domain/dataset';
import { classificationMetrics, float32Repr, regressionMetrics } from '../../src/domain/metrics';
import { type SignProjection, projectRows } from './dimensionReduction';
import { KnnClientError } from './errors';
import { formatHyperparameters, type KnnHyperparameters, parseHyperparameters } from './hyperparameters';
import type { KnnModel } from './model';
import { predict } from './predict';
import { pythonFloatRepr } from './pythonFloat';
import { sampleRows } from './sampling';

export interface TrainingResult {
  model: KnnModel;
  log: string[];
  finalMetrics: { MetricName: string; Value: number }[];
}

export interface TrainingInput {
  /** HyperParameters exactly as CreateTrainingJob received them (strings). */
  hyperparameters: Record<string, string>;
  /** Contents of the `train` channel: headerless CSV, label first. */
  train: string;
  /** Contents of the optional `test` channel, same format. */
  test?: string;
  /** Seeds sampling and the sign projection (default 0). */
  seed?: number;
  /** Clock for log timestamps (default: now). */
  now?: () => Date;
}

// The container logs through Python's logging with a thread id; a fixed one keeps local logs stable.
const LOG_THREAD_ID = '140285487171328';
const HOST = 'algo-1';
const PQ_CODEBOOK_CENTROIDS = 256;
// classCount² confusion-matrix cells are allocated when scoring; beyond this the local scorer refuses.
const MAX_SCORED_CLASSES = 2048;

interface Channel {
  name: 'train' | 'test';
  labels: number[];
  features: number[][];
}

export function trainKnn(input: TrainingInput): TrainingResult {
  const now = input.now ?? (() => new Date());
  const log: string[] = [];
  const info = (message: string): void => {
    log.push(`[${formatLogTime(now())} INFO ${LOG_THREAD_ID}] ${message}`);
  };

  const hyperparameters = parseHyperparameters(input.hyperparameters);
  info(`Final configuration: ${pythonDictRepr(formatHyperparameters(hyperparameters))}`);
  if (hyperparameters.dimensionReductionType === 'fjlt') {
    throw new KnnClientError(
      'dimension_reduction_type "fjlt" is not implemented by the local emulator (AWS supports it); use "sign" or no dimension reduction locally.',
    );
  }

  const train = readChannel('train', input.train, hyperparameters);
  const test = input.test === undefined ? undefined : readChannel('test', input.test, hyperparameters);
  if (hyperparameters.k > hyperparameters.sampleSize) {
    throw new KnnClientError(
      `k (${hyperparameters.k}) must not be greater than sample_size (${hyperparameters.sampleSize}): the index would hold fewer points than the neighbours each prediction asks for.`,
    );
  }

  info(
    `Using per-worker sample size = ${hyperparameters.sampleSize} (Available virtual memory = n/a (local emulator), GPU free memory = n/a, number of workers = 1). ` +
      'If an out-of-memory error occurs, choose a larger instance type, decrease sample_size or use dimension reduction.',
  );
  const seed = input.seed ?? 0;
  const sampled = sampleRows(train.labels.length, hyperparameters.sampleSize, seed);
  info(`Read ${train.labels.length} rows from channel "train"; sampled ${sampled.length} of them into the index.`);
  checkIndexPreconditions(hyperparameters, sampled.length);

  const featureDim = hyperparameters.featureDim;
  let points: Float32Array = new Float32Array(sampled.length * featureDim);
  const labels = new Float32Array(sampled.length);
  sampled.forEach((row, i) => {
    points.set(train.features[row], i * featureDim);
    labels[i] = train.labels[row];
  });
  let dimensionReduction: SignProjection | undefined;
  if (hyperparameters.dimensionReductionType === 'sign') {
    dimensionReduction = {
      type: 'sign',
      seed,
      inputDim: featureDim,
      targetDim: hyperparameters.dimensionReductionTarget!,
    };
    points = projectRows(points, sampled.length, dimensionReduction);
    info(
      `Reduced dimension ${featureDim} -> ${dimensionReduction.targetDim} with a random sign projection (seed ${seed}).`,
    );
  }

  const model: KnnModel = {
    hyperparameters,
    dim: featureDim,
    metric: hyperparameters.indexMetric,
    predictorType: hyperparameters.predictorType,
    k: hyperparameters.k,
    points,
    labels,
    count: sampled.length,
  };
  if (dimensionReduction) model.dimensionReduction = dimensionReduction;
  info(
    `Built ${hyperparameters.indexType} index (metric ${hyperparameters.indexMetric}) over ${model.count} points ` +
      `(local emulator: every index type is searched exactly).`,
  );
  if (model.count < model.k) {
    info(`Warning: k = ${model.k} but the index holds ${model.count} points; predictions use all of them.`);
  }

  const finalMetrics: TrainingResult['finalMetrics'] = [];
  if (test) {
    const queries = new Float32Array(test.labels.length * featureDim);
    test.features.forEach((row, i) => queries.set(row, i * featureDim));
    const predicted = predict(model, { data: queries, count: test.labels.length }).map((p) => p.predicted_label);
    const score = (name: string, valueText: string, value: number): void => {
      info(`#test_score (${HOST}) : ('${name}', ${valueText})`);
      finalMetrics.push({ MetricName: `test:${name}`, Value: value });
    };
    if (hyperparameters.predictorType === 'classifier') {
      const classCount = 1 + Math.max(largest(train.labels), largest(test.labels));
      if (classCount > MAX_SCORED_CLASSES) {
        throw new KnnClientError(
          `the local emulator scores classifiers with labels 0 to ${MAX_SCORED_CLASSES - 1}; the largest label is ${classCount - 1}.`,
        );
      }
      const metrics = classificationMetrics(test.labels, predicted, classCount);
      score('accuracy', pythonFloatRepr(metrics.accuracy), metrics.accuracy);
      const macroF1Text = float32Repr(metrics.macroF1);
      score('macro_f_1.000', macroF1Text, Number(macroF1Text));
    } else {
      const { mse } = regressionMetrics(test.labels, predicted);
      score('mse', pythonFloatRepr(mse), mse);
    }
  }
  return { model, log, finalMetrics };
}

function readChannel(name: Channel['name'], text: string, hyperparameters: KnnHyperparameters): Channel {
  let parsed: { labels: number[]; features: number[][] };
  try {
    parsed = parseLabelFirstCsv(text, `channel "${name}"`);
  } catch (error) {
    throw new KnnClientError(
      `Unable to read the training data (text/csv, label first, no header): ${(error as Error).message}`,
      [],
      {
        cause: error,
      },
    );
  }
  const { labels, features } = parsed;
  if (labels.length === 0) throw new KnnClientError(`channel "${name}" has no rows.`);
  features.forEach((row, i) => {
    if (row.length !== hyperparameters.featureDim) {
      throw new KnnClientError(
        `feature_dim hyperparameter is ${hyperparameters.featureDim} but channel "${name}" row ${i + 1} has ${row.length} features (columns after the label).`,
      );
    }
  });
  labels.forEach((label, i) => {
    if (!Number.isFinite(label)) {
      throw new KnnClientError(`channel "${name}" row ${i + 1} has label ${label}; labels must be finite numbers.`);
    }
    if (hyperparameters.predictorType === 'classifier' && !(Number.isInteger(label) && label >= 0)) {
      throw new KnnClientError(
        `predictor_type is classifier but channel "${name}" row ${i + 1} has label ${label}; classifier labels must be class indices (integers 0, 1, 2, …).`,
      );
    }
  });
  return { name, labels, features };
}

function checkIndexPreconditions(hyperparameters: KnnHyperparameters, sampledCount: number): void {
  if (hyperparameters.indexType === 'faiss.Flat') return;
  const nlists =
    hyperparameters.faissIndexIvfNlists === undefined || hyperparameters.faissIndexIvfNlists === 'auto'
      ? Math.max(1, Math.round(Math.sqrt(sampledCount)))
      : hyperparameters.faissIndexIvfNlists;
  if (sampledCount < nlists) {
    throw new KnnClientError(
      `faiss_index_ivf_nlists is ${nlists} but only ${sampledCount} points were sampled; an IVF index needs at least as many training points as lists (lower faiss_index_ivf_nlists or use "auto").`,
    );
  }
  if (hyperparameters.indexType === 'faiss.IVFPQ' && sampledCount < PQ_CODEBOOK_CENTROIDS) {
    throw new KnnClientError(
      `index_type faiss.IVFPQ needs at least ${PQ_CODEBOOK_CENTROIDS} sampled points to train its product-quantizer codebooks, got ${sampledCount} (use faiss.Flat or more data).`,
    );
  }
}

function largest(values: readonly number[]): number {
  let result = -Infinity;
  for (const value of values) if (value > result) result = value;
  return result;
}

/** `MM/DD/YYYY HH:MM:SS` in UTC, the container's log clock. */
function formatLogTime(time: Date): string {
  const two = (value: number): string => String(value).padStart(2, '0');
  return (
    `${two(time.getUTCMonth() + 1)}/${two(time.getUTCDate())}/${time.getUTCFullYear()} ` +
    `${two(time.getUTCHours())}:${two(time.getUTCMinutes())}:${two(time.getUTCSeconds())}`
  );
}

/** A str→str dict as Python prints it: {'k': '1', 'predictor_type': 'classifier'}. */
function pythonDictRepr(values: Record<string, string>): string {
  const quote = (text: string): string => `'${String(text).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `{${Object.entries(values)
    .map(([key, value]) => `${quote(key)}: ${quote(value)}`)
    .join(', ')}}`;
}
