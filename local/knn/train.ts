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
 * - Several hosts (ResourceConfig.InstanceCount > 1): AWS's "How the k-NN Algorithm Works" (Step 1: Sample) says each
 *   of the N workers samples sample_size / N points from the data it received and the model holds the union
 *   ("1,000 data points, sample_size 100, 2 instances: each worker would sample 50 points. A total set of 100 data
 *   points would be collected."). Locally host h (0-based) samples ⌊sample_size / N⌋ rows, plus one for the first
 *   sample_size mod N hosts, seeded `seed + h`, from its own rows; the merged index holds host 1's sample, then host
 *   2's, …. How the real container rounds an uneven share, seeds its workers and orders the merge is not documented.
 * - Channels are read as streams into typed arrays (channelParser.ts): a channel larger than a string may be is fine.
 */

import { classificationMetrics, float32Repr, regressionMetrics } from '../../src/domain/metrics';
import { type ChannelRows, LabelFirstCsvParser } from './channelParser';
import { type SignProjection, projectRows } from './dimensionReduction';
import { KnnClientError } from './errors';
import { formatHyperparameters, type KnnHyperparameters, parseHyperparameters } from './hyperparameters';
import type { KnnModel } from './model';
import { predict } from './predict';
import { pythonFloatRepr } from './pythonFloat';
import { sampleRows } from './sampling';

export type { ChannelRows } from './channelParser';

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

/** What the hosts of a training job read: the train rows each host received, and the test channel. */
export interface HostChannels {
  /**
   * One entry per host (algo-1, algo-2, …): the train rows that host received (the same rows when replicated). Handed
   * over: train() empties the array once it has sampled, so the rows can be collected before the index is built.
   */
  hosts: ChannelRows[];
  test?: ChannelRows;
  /** Seeds sampling (host h: seed + h) and the sign projection (default 0). */
  seed?: number;
}

// The container logs through Python's logging with a thread id; a fixed one keeps local logs stable.
const LOG_THREAD_ID = '140285487171328';
const HOST = 'algo-1';
const PQ_CODEBOOK_CENTROIDS = 256;
// classCount² confusion-matrix cells are allocated when scoring; beyond this the local scorer refuses.
const MAX_SCORED_CLASSES = 2048;
/** Test rows predicted per batch when scoring, so a large test channel never becomes one query matrix. */
const SCORING_BATCH_ROWS = 65_536;

/**
 * A training job of the local k-NN container, in the container's order: the hyperparameters are validated first
 * (`startKnnTraining` throws their ClientError), the channels are then read into `channelParser`s as they download,
 * and `train` samples, builds the index and scores the test channel.
 */
export interface KnnTrainingSession {
  readonly hyperparameters: KnnHyperparameters;
  /** The container's log lines so far. */
  readonly log: string[];
  /** A reader for one channel (or one host's share of it); `end()` gives its rows or the ClientError. */
  channelParser(channel: 'train' | 'test', host?: { index: number; count: number }): LabelFirstCsvParser;
  train(channels: HostChannels): TrainingResult;
}

export function startKnnTraining(
  hyperparameterStrings: Record<string, string>,
  now: () => Date = () => new Date(),
): KnnTrainingSession {
  const log: string[] = [];
  const info = (message: string): void => {
    log.push(`[${formatLogTime(now())} INFO ${LOG_THREAD_ID}] ${message}`);
  };
  const hyperparameters = parseHyperparameters(hyperparameterStrings);
  info(`Final configuration: ${pythonDictRepr(formatHyperparameters(hyperparameters))}`);
  if (hyperparameters.dimensionReductionType === 'fjlt') {
    throw new KnnClientError(
      'dimension_reduction_type "fjlt" is not implemented by the local emulator (AWS supports it); use "sign" or no dimension reduction locally.',
    );
  }
  return {
    hyperparameters,
    log,
    channelParser: (channel, host) =>
      new LabelFirstCsvParser({
        source: host && host.count > 1 ? `channel "${channel}" (algo-${host.index + 1})` : `channel "${channel}"`,
        channel,
        featureDim: hyperparameters.featureDim,
        classifier: hyperparameters.predictorType === 'classifier',
      }),
    train: (channels) => trainOnHosts(hyperparameters, channels, info, log),
  };
}

/** A single-host training job on channels held as text. */
export function trainKnn(input: TrainingInput): TrainingResult {
  const session = startKnnTraining(input.hyperparameters, input.now);
  const read = (channel: 'train' | 'test', text: string): ChannelRows => {
    const parser = session.channelParser(channel);
    parser.write(text);
    return parser.end();
  };
  const train = read('train', input.train);
  const test = input.test === undefined ? undefined : read('test', input.test);
  return session.train({ hosts: [train], test, seed: input.seed });
}

/** ⌊sampleSize / hosts⌋ per host, the remainder to the first hosts: the shares add up to sample_size. */
export function perWorkerSampleSizes(sampleSize: number, hosts: number): number[] {
  const base = Math.floor(sampleSize / hosts);
  return Array.from({ length: hosts }, (_, host) => base + (host < sampleSize % hosts ? 1 : 0));
}

function trainOnHosts(
  hyperparameters: KnnHyperparameters,
  channels: HostChannels,
  info: (message: string) => void,
  log: string[],
): TrainingResult {
  const { hosts, test } = channels;
  if (hosts.length === 0) throw new RangeError('a training job has at least one host');
  if (hyperparameters.k > hyperparameters.sampleSize) {
    throw new KnnClientError(
      `k (${hyperparameters.k}) must not be greater than sample_size (${hyperparameters.sampleSize}): the index would hold fewer points than the neighbours each prediction asks for.`,
    );
  }
  const seed = channels.seed ?? 0;
  const shares = perWorkerSampleSizes(hyperparameters.sampleSize, hosts.length);
  const samples = hosts.map((rows, host) => {
    info(
      `Using per-worker sample size = ${shares[host]} (Available virtual memory = n/a (local emulator), GPU free memory = n/a, number of workers = ${hosts.length}). ` +
        'If an out-of-memory error occurs, choose a larger instance type, decrease sample_size or use dimension reduction.',
    );
    const sampled = sampleRows(rows.count, shares[host], seed + host);
    const where = hosts.length > 1 ? ` on algo-${host + 1}` : '';
    info(`Read ${rows.count} rows from channel "train"${where}; sampled ${sampled.length} of them into the index.`);
    return sampled;
  });
  const sampledCount = samples.reduce((sum, sampled) => sum + sampled.length, 0);
  if (sampledCount === 0) throw new KnnClientError('channel "train" has no rows.');
  checkIndexPreconditions(hyperparameters, sampledCount);

  const featureDim = hyperparameters.featureDim;
  let points: Float32Array = new Float32Array(sampledCount * featureDim);
  const labels = new Float32Array(sampledCount);
  let next = 0;
  samples.forEach((sampled, host) => {
    for (const row of sampled) {
      hosts[host].copyFeatures(row, points, next * featureDim);
      labels[next] = hosts[host].label(row);
      next++;
    }
  });
  const largestTrainLabel = hosts.reduce((largest, rows) => Math.max(largest, rows.maxLabel), -Infinity);
  hosts.length = 0; // the channel rows are no longer needed: only the sample goes into the index
  let dimensionReduction: SignProjection | undefined;
  if (hyperparameters.dimensionReductionType === 'sign') {
    dimensionReduction = {
      type: 'sign',
      seed,
      inputDim: featureDim,
      targetDim: hyperparameters.dimensionReductionTarget!,
    };
    points = projectRows(points, sampledCount, dimensionReduction);
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
    count: sampledCount,
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
    const truth = test.labelRange(0, test.count);
    const predicted = new Float64Array(test.count);
    for (let start = 0; start < test.count; start += SCORING_BATCH_ROWS) {
      const end = Math.min(test.count, start + SCORING_BATCH_ROWS);
      const batch = predict(model, { data: test.featureRange(start, end), count: end - start });
      batch.forEach((prediction, i) => (predicted[start + i] = prediction.predicted_label));
    }
    const score = (name: string, valueText: string, value: number): void => {
      info(`#test_score (${HOST}) : ('${name}', ${valueText})`);
      finalMetrics.push({ MetricName: `test:${name}`, Value: value });
    };
    if (hyperparameters.predictorType === 'classifier') {
      const classCount = 1 + Math.max(largestTrainLabel, test.maxLabel);
      if (classCount > MAX_SCORED_CLASSES) {
        throw new KnnClientError(
          `the local emulator scores classifiers with labels 0 to ${MAX_SCORED_CLASSES - 1}; the largest label is ${classCount - 1}.`,
        );
      }
      const metrics = classificationMetrics(truth, predicted, classCount);
      score('accuracy', pythonFloatRepr(metrics.accuracy), metrics.accuracy);
      const macroF1Text = float32Repr(metrics.macroF1);
      score('macro_f_1.000', macroF1Text, Number(macroF1Text));
    } else {
      const { mse } = regressionMetrics(truth, predicted);
      score('mse', pythonFloatRepr(mse), mse);
    }
  }
  return { model, log, finalMetrics };
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
