import { PipelineError } from '../errors';
import { InvalidNameError } from './errors';
import { z } from 'zod';
import type { SageMakerRequests, SecuritySettings } from './sageMakerTypes';
import {
  RUN_ID_MAX,
  runIdFrom,
  runLayout,
  s3Uri,
  sageMakerNames,
  servingConfigName,
  servingEndpointName,
  shortHash,
  type SageMakerNames,
} from './naming';

import { resolveTuning, tuningInputSchema, type TuningConfig, type TuningInput } from './tuning';
import type { CapacitySettings } from './capacity';
import {
  capacitySettings,
  DEFAULT_CAPACITY,
  EXECUTION_TIMEOUT_SECONDS,
  timeBudget,
  type CapacityStageSettings,
  type TimeBudget,
} from './timeBudget';
import type { PredictorType } from '../artifacts/predictorType';
import { EVALUATION_MODES, type EvaluationMode } from '../artifacts/evaluationMode';
export type { PredictorType, EvaluationMode };
export { EVALUATION_MODES };
export type TriggerType = 'console' | 's3' | 'schedule';

export const CLASSIFIER_GATE_METRICS = ['accuracy', 'macroF1', 'weightedF1', 'macroPrecision', 'macroRecall'] as const;
export const REGRESSOR_GATE_METRICS = ['r2', 'mse', 'rmse', 'mae'] as const;
/** Loss metrics pass the gate at or below the threshold; every other metric at or above it. */
export const MAX_TRAINING_RUNTIME_SECONDS = 14_400;
export const MAX_FOLDS = 20;
/** Fold training jobs run at most this many at a time (the Map state's MaxConcurrency). */
export const CROSS_VALIDATION_CONCURRENCY = 2;
export const LOWER_IS_BETTER = new Set<string>(['mse', 'rmse', 'mae']);

/** ServerlessConfig.MemorySizeInMB: 1 to 6 GB in 1 GB steps. */
export const SERVERLESS_MEMORY_SIZES = [1024, 2048, 3072, 4096, 5120, 6144] as const;
/** ServerlessConfig.MaxConcurrency: 1 to 200 concurrent invocations. */
export const SERVERLESS_MAX_CONCURRENCY = 200;

/** Settings of a deployed stage (serverless.yml params → Lambda environment); every run starts from these. */
export interface StageDefaults {
  dataBucket: string;
  rawPrefix: string;
  runsPrefix: string;
  datasetKey: string;
  namePrefix: string;
  labelColumn: string;
  predictorType: PredictorType;
  hyperparameters: Record<string, string>;
  split: { testFraction: number; seed: number };
  /** k-fold cross-validation before the final model (0 = off). */
  crossValidationFolds: number;
  /** Hyperparameter tuning before the final model (undefined = off). */
  tuning?: TuningInput;
  /** Promote models that pass the gate to the stable endpoint (off = evaluate and delete). */
  serve: { enabled: boolean; keep: number };
  training: {
    image: string;
    roleArn: string;
    instanceType: string;
    instanceCount: number;
    volumeSizeInGB: number;
    maxRuntimeInSeconds: number;
  };
  hosting: { instanceType: string; instanceCount: number; maxWaitSeconds: number; pollSeconds: number };
  /** The evaluation mode and its settings; a transform without its own instance type or count uses hosting's. */
  evaluation: {
    mode: EvaluationMode;
    serverless: ServerlessSettings;
    transform: { instanceType?: string; instanceCount?: number };
  };
  qualityGate: { classifier: QualityGate; regressor: QualityGate };
  maxDatasetBytes: number;
  security: SecuritySettings;
  notificationBus: string;
  /** Feature engineering: the stage's default (off: scaling none, nothing categorical, no PCA, nothing dropped). */
  features: FeatureOptions;
  /** Waiting for SageMaker capacity (stage params capacity*); DEFAULT_CAPACITY when left out. */
  capacity?: CapacityStageSettings;
}

export const SCALINGS = ['none', 'standard', 'minmax'] as const;
export type Scaling = (typeof SCALINGS)[number];
/** The default limit of distinct values a categorical column may have (each one becomes a feature). */
export const DEFAULT_MAX_CATEGORICAL_LEVELS = 100;

/** What to do to the features before k-NN sees them, fitted on the training rows only (docs/feature-transform.md). */
export interface FeatureOptions {
  scaling: Scaling;
  /** Columns to one-hot encode, or "auto": every non-numeric column but the label. */
  categorical: string[] | 'auto';
  /** Components to keep (integer ≥ 1) or a fraction of variance (0 < f < 1); null: no PCA. */
  pca: number | null;
  /** Columns left out, such as ids. */
  drop: string[];
  maxCategoricalLevels: number;
}

export interface QualityGate {
  metric: string;
  threshold: number;
}

export interface ServerlessSettings {
  memorySizeInMB: number;
  maxConcurrency: number;
}

/** The run's evaluation mode with the settings that mode uses (and only those). */
export type EvaluationConfig =
  | { mode: 'endpoint' }
  | { mode: 'serverless'; serverless: ServerlessSettings }
  | { mode: 'batchTransform'; transform: { instanceType: string; instanceCount: number } };

/** Everything one execution needs, decided once by Prepare and carried through the state machine as `$.run`. */
export interface RunConfig {
  runId: string;
  trigger: { type: TriggerType; executionName: string; eventId?: string };
  bucket: string;
  dataset: { bucket: string; key: string; versionId?: string; etag?: string; uri: string };
  labelColumn: string;
  predictorType: PredictorType;
  split: { testFraction: number; seed: number };
  names: SageMakerNames;
  keys: ReturnType<typeof runLayout>;
  uris: {
    trainChannel: string;
    testChannel: string;
    trainingOutput: string;
    root: string;
    tuningTrainChannel: string;
    tuningValidationChannel: string;
    tuningOutput: string;
  };
  training: StageDefaults['training'] & { hyperParameters: Record<string, string> };
  hosting: { instanceType: string; instanceCount: number; maxWaitPolls: number; pollSeconds: number };
  evaluation: EvaluationConfig;
  qualityGate: QualityGate & { direction: 'min' | 'max' };
  crossValidation: { folds: number; maxConcurrency: number };
  /** SageMaker automatic model tuning of k / sample_size on a validation split of the training rows. */
  tuning: TuningConfig;
  serve: ServeConfig;
  security: SecuritySettings;
  features: FeatureOptions;
  /** The run's time budget (src/domain/timeBudget.ts) and how its claims wait for SageMaker capacity. */
  budget: TimeBudget;
  capacity: CapacitySettings;
  /** The SageMaker requests, added by Prepare once feature_dim is known from the data. */
  requests?: SageMakerRequests;
}

/** Serving mode: the stable endpoint, the config this run would put behind it, and how many configs to retain. */
export interface ServeConfig {
  enabled: boolean;
  endpointName: string;
  endpointConfigName: string;
  keep: number;
  maxWaitPolls: number;
}

export class InputValidationError extends PipelineError {
  constructor(readonly problems: string[]) {
    super(
      `Invalid execution input (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`,
    );
    this.name = 'InputValidationError';
  }
}

const positiveInt = (max: number) => z.number().int().min(1).max(max);
/** Hyperparameters accept JSON numbers for convenience; SageMaker receives strings. */
const intLike = (max: number) =>
  z.union([
    positiveInt(max),
    z.string().regex(/^\d+$/, 'expected a positive integer').transform(Number).pipe(positiveInt(max)),
  ]);

const hyperparametersSchema = z.strictObject({
  k: intLike(1024).optional(),
  sample_size: intLike(20_000_000).optional(),
  index_type: z.enum(['faiss.Flat', 'faiss.IVFFlat', 'faiss.IVFPQ']).optional(),
  index_metric: z.enum(['L2', 'INNER_PRODUCT', 'COSINE']).optional(),
  dimension_reduction_type: z.enum(['sign', 'fjlt']).optional(),
  dimension_reduction_target: intLike(1_000_000).optional(),
  faiss_index_ivf_nlists: z.union([z.literal('auto'), intLike(1_000_000)]).optional(),
  faiss_index_pq_m: intLike(96).optional(),
  mini_batch_size: intLike(10_000_000).optional(),
});

const columnList = z.array(z.string().trim().min(1, 'a column name cannot be empty'));
const featuresSchema = z.strictObject({
  scaling: z.enum(SCALINGS).optional(),
  categorical: z.union([z.literal('auto'), columnList]).optional(),
  pca: z
    .number()
    .positive('must be a number of components or a fraction of variance between 0 and 1')
    .refine((n) => n < 1 || Number.isInteger(n), {
      message: 'must be a whole number of components (1 or more) or a fraction of variance between 0 and 1',
    })
    .nullable()
    .optional(),
  drop: columnList.optional(),
  maxCategoricalLevels: positiveInt(1_000_000).optional(),
});

const instanceType = z.string().regex(/^ml\.[a-z0-9-]+\.[a-z0-9]+$/, 'expected an instance type like ml.m5.large');

const consoleInputSchema = z.strictObject({
  Comment: z.string().optional(),
  dataset: z
    .strictObject({
      bucket: z.string().min(3).max(63).optional(),
      key: z.string().min(1).max(1024).optional(),
      versionId: z.string().min(1).optional(),
    })
    .optional(),
  labelColumn: z.string().min(1).optional(),
  predictorType: z.enum(['classifier', 'regressor']).optional(),
  hyperparameters: hyperparametersSchema.optional(),
  split: z
    .strictObject({
      testFraction: z.number().gt(0, 'must be greater than 0').lt(1, 'must be less than 1').optional(),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1)
        .optional(),
    })
    .optional(),
  training: z
    .strictObject({
      instanceType: instanceType.optional(),
      instanceCount: positiveInt(100).optional(),
      volumeSizeInGB: positiveInt(16384).optional(),
      // The Train task times out at 5 h and the execution at 6 h (statemachine/), so a job may run at most 4 h.
      maxRuntimeInSeconds: positiveInt(MAX_TRAINING_RUNTIME_SECONDS).optional(),
    })
    .optional(),
  hosting: z
    .strictObject({ instanceType: instanceType.optional(), instanceCount: positiveInt(100).optional() })
    .optional(),
  qualityGate: z
    .strictObject({
      metric: z.enum([...CLASSIFIER_GATE_METRICS, ...REGRESSOR_GATE_METRICS]).optional(),
      threshold: z.number().optional(),
    })
    .optional(),
  serve: z.boolean().optional(),
  evaluation: z
    .strictObject({
      mode: z.enum(EVALUATION_MODES).optional(),
      serverless: z
        .strictObject({
          memorySizeInMB: z
            .number()
            .refine((n) => (SERVERLESS_MEMORY_SIZES as readonly number[]).includes(n), {
              message: `must be one of ${SERVERLESS_MEMORY_SIZES.join(', ')} (MB)`,
            })
            .optional(),
          maxConcurrency: positiveInt(SERVERLESS_MAX_CONCURRENCY).optional(),
        })
        .optional(),
      transform: z
        .strictObject({ instanceType: instanceType.optional(), instanceCount: positiveInt(100).optional() })
        .optional(),
    })
    .optional(),
  crossValidation: z
    .strictObject({ folds: z.number().int().min(2, 'at least 2 folds').max(MAX_FOLDS, `at most ${MAX_FOLDS} folds`) })
    .optional(),
  tuning: tuningInputSchema.optional(),
  features: featuresSchema.optional(),
  // The longest the run waits in total for SageMaker capacity (README "Bursts and quotas").
  capacity: z.strictObject({ maxQueueSeconds: positiveInt(EXECUTION_TIMEOUT_SECONDS).optional() }).optional(),
});
export type ConsoleInput = z.infer<typeof consoleInputSchema>;

const s3EventSchema = z.object({
  source: z.literal('aws.s3'),
  'detail-type': z.string(),
  id: z.string().optional(),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().optional(),
      etag: z.string().optional(),
      'version-id': z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

const scheduleEventSchema = z.object({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  id: z.string().optional(),
});

export interface ExecutionInfo {
  name: string;
}

function describeIssues(error: z.ZodError, root = ''): string[] {
  return error.issues.map((issue) => {
    const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return `${path ? `${path}: ` : ''}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${path || '(input)'}: ${issue.message}`;
  });
}

/** Which of the three triggers produced this execution input. */
export function detectTrigger(input: unknown): TriggerType {
  if (input && typeof input === 'object') {
    const source = (input as Record<string, unknown>).source;
    if (source === 'aws.s3') return 's3';
    if (source === 'aws.events') return 'schedule';
  }
  return 'console';
}

function stripPrefixSlashes(prefix: string): string {
  return prefix.replace(/^\/+/, '');
}

/**
 * Turns any of the three execution input shapes into one run configuration, validating every field and
 * reporting all problems at once. Reading the dataset (feature_dim) is the caller's job.
 */
export function resolveRunConfig(input: unknown, execution: ExecutionInfo, defaults: StageDefaults): RunConfig {
  const trigger = detectTrigger(input);
  const problems: string[] = [];
  let options: ConsoleInput = {};
  let dataset: RunConfig['dataset'];
  let runId: string;
  let eventId: string | undefined;

  if (trigger === 's3') {
    const parsed = s3EventSchema.safeParse(input);
    if (!parsed.success) throw new InputValidationError(describeIssues(parsed.error));
    const event = parsed.data;
    if (event['detail-type'] !== 'Object Created') {
      throw new InputValidationError([`detail-type: expected "Object Created", got "${event['detail-type']}"`]);
    }
    const object = event.detail.object;
    eventId = event.id;
    dataset = {
      bucket: event.detail.bucket.name,
      key: object.key,
      versionId: object['version-id'],
      etag: object.etag,
      uri: s3Uri(event.detail.bucket.name, object.key),
    };
    // Duplicate deliveries of one upload carry the same identity, so they map to the same run id.
    const identity = [
      dataset.bucket,
      dataset.key,
      object['version-id'] ?? '',
      object.sequencer ?? '',
      object.etag ?? '',
    ].join('|');
    const stem = object.key
      .split('/')
      .pop()!
      .replace(/\.[^.]*$/, '');
    runId = runIdFrom(stem, shortHash(identity, 12));
  } else {
    if (trigger === 'schedule') {
      const parsed = scheduleEventSchema.safeParse(input);
      if (!parsed.success) throw new InputValidationError(describeIssues(parsed.error));
      eventId = parsed.data.id;
    } else {
      const parsed = consoleInputSchema.safeParse(input ?? {});
      if (!parsed.success) throw new InputValidationError(describeIssues(parsed.error));
      options = parsed.data;
    }
    const bucket = options.dataset?.bucket ?? defaults.dataBucket;
    const key = options.dataset?.key ?? defaults.datasetKey;
    dataset = { bucket, key, versionId: options.dataset?.versionId, uri: s3Uri(bucket, key) };
    runId = runIdFrom(execution.name);
  }

  const rawPrefix = stripPrefixSlashes(defaults.rawPrefix);
  if (dataset.bucket !== defaults.dataBucket) {
    problems.push(
      `dataset.bucket: the pipeline reads only its data bucket "${defaults.dataBucket}", got "${dataset.bucket}"`,
    );
  }
  if (!dataset.key.startsWith(rawPrefix)) {
    problems.push(`dataset.key: must be under the raw prefix "${rawPrefix}", got "${dataset.key}"`);
  } else if (dataset.key.split('/').some((segment) => segment === '.' || segment === '..')) {
    // S3 keys are literal, but tools that map keys to paths (the local S3, `aws s3 sync`) would leave raw/.
    problems.push(`dataset.key: "." and ".." path segments are not allowed, got "${dataset.key}"`);
  }

  const predictorType = options.predictorType ?? defaults.predictorType;
  const gateDefaults = defaults.qualityGate[predictorType];
  const gateMetric = options.qualityGate?.metric ?? gateDefaults.metric;
  const allowedMetrics: readonly string[] =
    predictorType === 'classifier' ? CLASSIFIER_GATE_METRICS : REGRESSOR_GATE_METRICS;
  if (!allowedMetrics.includes(gateMetric)) {
    problems.push(
      `qualityGate.metric: "${gateMetric}" is not a ${predictorType} metric (one of ${allowedMetrics.join(', ')})`,
    );
  }

  const hyperParameters: Record<string, string> = { ...defaults.hyperparameters };
  for (const [name, value] of Object.entries(options.hyperparameters ?? {})) {
    if (value !== undefined) hyperParameters[name] = String(value);
  }
  hyperParameters.predictor_type = predictorType;

  const serve = options.serve ?? defaults.serve.enabled;
  const hosting = {
    instanceType: options.hosting?.instanceType ?? defaults.hosting.instanceType,
    instanceCount: options.hosting?.instanceCount ?? defaults.hosting.instanceCount,
  };
  const evaluation = resolveEvaluation(options.evaluation, defaults, hosting, serve, problems);
  const training = { ...defaults.training, ...stripUndefined(options.training ?? {}), hyperParameters };
  const tuning = resolveTuning(
    options.tuning ?? defaults.tuning,
    {
      predictorType,
      trainingMaxRuntimeSeconds: training.maxRuntimeInSeconds,
      endpointMaxWaitSeconds: defaults.hosting.maxWaitSeconds,
    },
    problems,
  );
  const labelColumn = options.labelColumn ?? defaults.labelColumn;
  const features = resolveFeatures(options.features, defaults.features, labelColumn, problems);
  const folds = options.crossValidation?.folds ?? defaults.crossValidationFolds;
  const budgetInputs = {
    trainingMaxRuntimeSeconds: training.maxRuntimeInSeconds,
    folds,
    foldConcurrency: CROSS_VALIDATION_CONCURRENCY,
    evaluationMode: evaluation.mode,
    endpointMaxWaitSeconds: defaults.hosting.maxWaitSeconds,
    serve,
    capacity: { ...(defaults.capacity ?? DEFAULT_CAPACITY), ...stripUndefined(options.capacity ?? {}) },
    ...(tuning.enabled ? { tuningMaxRuntimeSeconds: tuning.maxRuntimeInSeconds } : {}),
  };
  const budget = timeBudget(budgetInputs);
  if (typeof budget === 'string') problems.push(budget);

  if (problems.length > 0 || typeof budget === 'string') throw new InputValidationError(problems);
  if (runId.length > RUN_ID_MAX) throw new InvalidNameError(`internal: run id ${runId} too long`);

  const keys = runLayout(defaults.runsPrefix, runId);
  const names = sageMakerNames(defaults.namePrefix, runId);
  const bucket = defaults.dataBucket;
  const pollSeconds = defaults.hosting.pollSeconds;
  return {
    runId,
    trigger: { type: trigger, executionName: execution.name, ...(eventId ? { eventId } : {}) },
    bucket,
    dataset,
    labelColumn,
    predictorType,
    split: {
      testFraction: options.split?.testFraction ?? defaults.split.testFraction,
      seed: options.split?.seed ?? defaults.split.seed,
    },
    names,
    keys,
    uris: {
      root: s3Uri(bucket, keys.root),
      trainChannel: s3Uri(bucket, keys.trainChannelPrefix),
      testChannel: s3Uri(bucket, keys.testChannelPrefix),
      trainingOutput: s3Uri(bucket, keys.trainingOutput),
      tuningTrainChannel: s3Uri(bucket, keys.tuningTrainChannelPrefix),
      tuningValidationChannel: s3Uri(bucket, keys.tuningValidationChannelPrefix),
      tuningOutput: s3Uri(bucket, keys.tuningOutput),
    },
    training,
    hosting: {
      ...hosting,
      pollSeconds,
      maxWaitPolls: Math.max(1, Math.ceil(defaults.hosting.maxWaitSeconds / pollSeconds)),
    },
    evaluation,
    qualityGate: {
      metric: gateMetric,
      threshold: options.qualityGate?.threshold ?? gateDefaults.threshold,
      direction: LOWER_IS_BETTER.has(gateMetric) ? 'max' : 'min',
    },
    crossValidation: { folds, maxConcurrency: CROSS_VALIDATION_CONCURRENCY },
    tuning,
    security: defaults.security,
    features,
    budget,
    // The queue is shared by every run of the stage, beside the runs (`_` never starts a run id).
    capacity: capacitySettings(budget, budgetInputs, `${defaults.runsPrefix.replace(/\/+$/, '')}/_capacity/`),
    serve: {
      enabled: serve,
      endpointName: servingEndpointName(defaults.namePrefix),
      endpointConfigName: servingConfigName(names),
      keep: defaults.serve.keep,
      maxWaitPolls: Math.max(1, Math.ceil(defaults.hosting.maxWaitSeconds / pollSeconds)),
    },
  };
}

/** Why serverless evaluation and serving mode do not go together (docs/modes.md). */
export const SERVERLESS_WITH_SERVE =
  'a serverless endpoint cannot be combined with serving mode: the stable endpoint stays instance-based (an instance ' +
  'endpoint cannot be updated to a serverless config), and a serverless endpoint needs a model without network ' +
  'isolation, which the stable endpoint would then serve; use "endpoint" or "batchTransform" with serve';
/** Why serverless evaluation and a VPC do not go together. */
export const SERVERLESS_WITH_VPC =
  'a serverless endpoint cannot run in a VPC, and this stage runs its models in one (params vpcSubnetIds, ' +
  'vpcSecurityGroupIds); use "endpoint" or "batchTransform"';

/**
 * The run's evaluation mode and the settings of that mode: the input's over the stage's, a transform's instances
 * defaulting to hosting's. Settings for another mode than the run's, and the combinations SageMaker cannot run, are
 * added to `problems`.
 */
function resolveEvaluation(
  input: ConsoleInput['evaluation'],
  defaults: StageDefaults,
  hosting: { instanceType: string; instanceCount: number },
  serve: boolean,
  problems: string[],
): EvaluationConfig {
  const mode = input?.mode ?? defaults.evaluation.mode;
  for (const [field, owner] of [
    ['serverless', 'serverless'],
    ['transform', 'batchTransform'],
  ] as const) {
    if (input?.[field] !== undefined && mode !== owner)
      problems.push(
        `evaluation.${field}: applies only to evaluation.mode "${owner}", and this run's mode is "${mode}"`,
      );
  }
  if (mode === 'serverless') {
    if (serve) problems.push(`evaluation.mode: ${SERVERLESS_WITH_SERVE}`);
    if (defaults.security.vpc) problems.push(`evaluation.mode: ${SERVERLESS_WITH_VPC}`);
  }
  if (mode === 'serverless')
    return { mode, serverless: { ...defaults.evaluation.serverless, ...stripUndefined(input?.serverless ?? {}) } };
  if (mode === 'batchTransform') {
    const transform = { ...defaults.evaluation.transform, ...stripUndefined(input?.transform ?? {}) };
    return {
      mode,
      transform: {
        instanceType: transform.instanceType ?? hosting.instanceType,
        instanceCount: transform.instanceCount ?? hosting.instanceCount,
      },
    };
  }
  return { mode };
}

/**
 * The run's feature options, the input's over the stage's. Column names are checked against each other and the label
 * here; against the header by Prepare.
 */
function resolveFeatures(
  input: ConsoleInput['features'],
  defaults: FeatureOptions,
  labelColumn: string,
  problems: string[],
): FeatureOptions {
  const features: FeatureOptions = { ...defaults, ...stripUndefined(input ?? {}) } as FeatureOptions;
  const label = labelColumn.trim();
  for (const field of ['categorical', 'drop'] as const) {
    const columns = features[field];
    if (columns === 'auto') continue;
    if (columns.includes(label)) problems.push(`features.${field}: "${label}" is the label column, not a feature`);
    const repeated = columns.filter((name, i) => columns.indexOf(name) !== i);
    if (repeated.length) problems.push(`features.${field}: "${repeated[0]}" is listed twice`);
  }
  if (Array.isArray(features.categorical)) {
    const both = features.categorical.find((name) => features.drop.includes(name));
    if (both)
      problems.push(`features: "${both}" is both dropped (features.drop) and categorical (features.categorical)`);
  }
  return features;
}

/** Whether Upload fits a transform: anything beyond dropping columns (scaling, one-hot, PCA). */
export function transformsFeatures(features: FeatureOptions, categoricalColumns: readonly string[]): boolean {
  return features.scaling !== 'none' || features.pca !== null || categoricalColumns.length > 0;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
