import { ConfigurationError } from '../errors';
import { InvalidNameError } from './errors';
import { createHash } from 'node:crypto';

/** SageMaker's pattern for training job, endpoint and endpoint config names (≤ 63 characters). */
export const SAGEMAKER_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
export const SAGEMAKER_NAME_MAX = 63;
/** Longest run id: a UUID execution name fits, and `<prefix>-<runId>-endpoint` stays within 63 characters. */
export const RUN_ID_MAX = 36;
/**
 * Between the stage's prefix and the run id. Prefixes and run ids never contain "--", so names of one stage can
 * never match another stage's patterns (knnp-dev--* vs knnp-dev-x--*), and fold jobs never equal a run's job.
 */
export const NAME_SEPARATOR = '--';
/** Longest name prefix (service + stage) that leaves room for a full run id and the longest kind suffix. */
export const NAME_PREFIX_MAX = SAGEMAKER_NAME_MAX - RUN_ID_MAX - NAME_SEPARATOR.length - '-endpoint'.length;
/** Lower-case letters and digits in groups joined by single hyphens (SageMaker ARNs carry lower-cased names). */
export const NAME_PREFIX_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export interface SageMakerNames {
  trainingJob: string;
  model: string;
  endpointConfig: string;
  endpoint: string;
  /** The batch transform job of evaluation mode batchTransform (`-batch`: `-transform` would not fit 63 characters). */
  transformJob: string;
  /**
   * The hyperparameter tuning job (tuning on): at most 32 characters, `<prefix>--<head of run id>-<hash of run id>`.
   * SageMaker names its training jobs `<tuning job>-NNN-<8 hex>`, so they too start with `<prefix>--`.
   */
  tuningJob: string;
}

/** SageMaker's pattern for hyperparameter tuning job names (≤ 32 characters). */
export const TUNING_JOB_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$/;
export const TUNING_JOB_NAME_MAX = 32;
const TUNING_HASH_LENGTH = 8;

export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Lower-case letters, digits and single hyphens only: safe in S3 prefixes and SageMaker names alike. */
export function slug(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * A run id from an arbitrary label (execution name, file name): a readable slug, shortened with a hash
 * of the whole label when it is too long or had to change, so that distinct labels never share a run id.
 */
export function runIdFrom(label: string, uniqueSuffix?: string): string {
  const readable = slug(label) || 'run';
  const identity = uniqueSuffix ?? (readable === label && readable.length <= RUN_ID_MAX ? undefined : shortHash(label));
  if (identity === undefined) return readable;
  const room = RUN_ID_MAX - identity.length - 1;
  const head = readable.slice(0, room).replace(/-+$/g, '') || 'run';
  return `${head}-${identity}`;
}

export function assertValidNamePrefix(prefix: string): void {
  if (prefix.length > NAME_PREFIX_MAX || !NAME_PREFIX_PATTERN.test(prefix)) {
    throw new ConfigurationError(
      `Name prefix "${prefix}" must be 1-${NAME_PREFIX_MAX} lower-case letters, digits or single hyphens (it starts every SageMaker resource name)`,
    );
  }
}

const SERVING_ENDPOINT_SUFFIX = `${NAME_SEPARATOR}serving`;

/** Whether a name is a stable serving endpoint's (`<prefix>--serving`). */
export function isServingEndpointName(name: string): boolean {
  return name.endsWith(SERVING_ENDPOINT_SUFFIX);
}

/** A run's serving config, from the stage prefix and run id (another run's, e.g. a capacity ticket's). */
export function servingConfigOfRun(prefix: string, runId: string): string {
  return servingConfigName(sageMakerNames(prefix, runId));
}

/** Whether a name can be a tuning job's: `<prefix>--<head>-<8 hex>`, at most 32 characters. */
export function isTuningJobName(name: string): boolean {
  return name.length <= TUNING_JOB_NAME_MAX && /-[0-9a-f]{8}$/.test(name);
}

/** The stable endpoint of serving mode: one per stage, never deleted by a run's cleanup. */
export function servingEndpointName(prefix: string): string {
  return `${prefix}${SERVING_ENDPOINT_SUFFIX}`;
}

/** The stage's prefix of a serving endpoint name (inverse of servingEndpointName). */
export function prefixOfServingEndpoint(endpointName: string): string {
  return endpointName.slice(0, endpointName.length - SERVING_ENDPOINT_SUFFIX.length);
}

/** The endpoint config a run puts behind the stable endpoint when its model is promoted. */
export function servingConfigName(names: SageMakerNames): string {
  return `${names.trainingJob}-serve`;
}

/** The model a serving config points at (the run's own model): `<base>-serve` → `<base>-model`. */
export function modelOfServingConfig(configName: string): string {
  return configName.replace(/-serve$/, '-model');
}

/** The run whose model a serving config serves: `<prefix>--<runId>-serve` → runId (undefined for another name). */
export function runIdOfServingConfig(configName: string, namePrefix: string): string | undefined {
  const head = `${namePrefix}${NAME_SEPARATOR}`;
  if (!configName.startsWith(head) || !configName.endsWith('-serve')) return undefined;
  return configName.slice(head.length, -'-serve'.length);
}

/** Another run's layout beside this one's (same runs prefix). */
export function siblingRunLayout(layout: { root: string }, ownRunId: string, runId: string): RunLayout {
  return runLayout(layout.root.slice(0, layout.root.length - ownRunId.length - 1), runId);
}

/** Training job of one cross-validation fold (1-based): `<prefix>--<runId>--f<n>`, within 63 characters. */
export function foldTrainingJobName(names: SageMakerNames, fold: number): string {
  return `${names.trainingJob}${NAME_SEPARATOR}f${fold}`;
}

/**
 * The run's tuning job: the prefix and separator, then as much of the run id as fits and a hash of the whole run id
 * (distinct run ids never share a tuning job, and the name still says whose run it is).
 */
export function tuningJobName(prefix: string, runId: string): string {
  const hash = shortHash(runId, TUNING_HASH_LENGTH);
  const head = `${prefix}${NAME_SEPARATOR}`;
  const room = TUNING_JOB_NAME_MAX - head.length - hash.length - 1;
  const readable = runId.slice(0, Math.max(0, room)).replace(/-+$/g, '');
  return `${head}${readable ? `${readable}-` : ''}${hash}`;
}

export function sageMakerNames(prefix: string, runId: string): SageMakerNames {
  assertValidNamePrefix(prefix);
  if (runId.length > RUN_ID_MAX || !SAGEMAKER_NAME_PATTERN.test(runId)) {
    throw new InvalidNameError(`Run id "${runId}" must be 1-${RUN_ID_MAX} letters, digits or single hyphens`);
  }
  const base = `${prefix}${NAME_SEPARATOR}${runId}`;
  return {
    trainingJob: base,
    model: `${base}-model`,
    endpointConfig: `${base}-config`,
    endpoint: `${base}-endpoint`,
    transformJob: `${base}-batch`,
    tuningJob: tuningJobName(prefix, runId),
  };
}

/** The record of one claim on a SageMaker quota (src/domain/capacity.ts), beside the run's other artifacts. */
export function capacityWaitKey(keys: { root: string }, resource: string): string {
  return `${keys.root}capacity/${resource}.json`;
}

/** Where everything of one run lives in the data bucket. */
export function runLayout(runsPrefix: string, runId: string) {
  const root = `${runsPrefix.replace(/\/+$/, '')}/${runId}`;
  return {
    root: `${root}/`,
    /** Headerless, features only, one row per line in file order, numbers as the channels write them. */
    preparedFeatures: `${root}/prepared/features.csv`,
    /** Little-endian float64, one per row in file order: the class index (classifier) or the value (regressor). */
    preparedLabels: `${root}/prepared/labels.f64`,
    manifest: `${root}/prepared/manifest.json`,
    split: `${root}/prepared/split.json`,
    claim: `${root}/claim.json`,
    trainChannelPrefix: `${root}/input/train/`,
    trainChannel: `${root}/input/train/train.csv`,
    testChannelPrefix: `${root}/input/test/`,
    testChannel: `${root}/input/test/test.csv`,
    trainingOutput: `${root}/output/`,
    /** Where the batch transform job writes (under output/, which the SageMaker role may write). */
    transformOutput: `${root}/output/transform/`,
    /** The transform job's output for the test channel: `<input object name>.out`, one JSON line per test row. */
    transformResult: `${root}/output/transform/test.csv.out`,
    /** Tuning on: the tuning jobs' train channel (training rows minus the validation split) and test channel. */
    tuningTrainChannelPrefix: `${root}/input/tuning/train/`,
    tuningTrainChannel: `${root}/input/tuning/train/train.csv`,
    tuningValidationChannelPrefix: `${root}/input/tuning/validation/`,
    tuningValidationChannel: `${root}/input/tuning/validation/validation.csv`,
    tuningOutput: `${root}/output/tuning/`,
    /** Every trial of the tuning job and the chosen one (written by RecordTuning). */
    trials: `${root}/tuning/trials.json`,
    metrics: `${root}/evaluation/metrics.json`,
    predictions: `${root}/evaluation/predictions.csv`,
    report: `${root}/evaluation/report.html`,
    summary: `${root}/summary.json`,
    serving: `${root}/serving.json`,
    /** The feature transform fitted on the training rows (runs with feature engineering only). */
    transform: `${root}/features/transform.json`,
    /** Tuning on: the feature transform fitted on the tuning jobs' train rows (the validation split left out). */
    tuningTransform: `${root}/features/tuning.json`,
    /** The held-out rows as prepared (label first, untransformed): what Evaluate transforms, scores and lists. */
    rawTestRows: `${root}/features/test-raw.csv`,
  };
}
export type RunLayout = ReturnType<typeof runLayout>;

/**
 * Where one cross-validation fold (1-based) keeps its channels and training output: under the run's `input/` and
 * `output/`, the only prefixes the SageMaker execution role may read (resources/sagemaker-role.yml).
 */
export function foldLayout(runRoot: string, fold: number) {
  const root = runRoot.replace(/\/+$/, '');
  const channels = `${root}/input/cv/fold-${fold}`;
  return {
    trainChannel: `${channels}/train/train.csv`,
    trainChannelPrefix: `${channels}/train/`,
    testChannel: `${channels}/test/test.csv`,
    testChannelPrefix: `${channels}/test/`,
    output: `${root}/output/cv/fold-${fold}/`,
    /** The feature transform fitted on this fold's training rows. */
    transform: `${root}/features/fold-${fold}.json`,
  };
}

/**
 * The objects of a train channel cut into `shards` (ShardedByS3Key gives each training host its share of the
 * objects): the channel's usual single object when there is one shard.
 */
export function trainShardKeys(layout: { trainChannel: string; trainChannelPrefix: string }, shards: number): string[] {
  if (shards === 1) return [layout.trainChannel];
  const digits = String(shards).length;
  return Array.from(
    { length: shards },
    (_, s) => `${layout.trainChannelPrefix}train-${String(s + 1).padStart(digits, '0')}-of-${shards}.csv`,
  );
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new InvalidNameError(`Not an s3:// URI: ${uri}`);
  return { bucket: match[1], key: match[2] };
}
