import { ConfigurationError } from '../errors';
import { memoiseOnEnv, type Env } from './env';
import { parseTuneOption, tuningInputSchema, type TuningInput } from '../domain/tuning';
import type { SecuritySettings } from '../domain/sageMakerTypes';
import { DEFAULT_CAPACITY } from '../domain/timeBudget';
import {
  DEFAULT_MAX_CATEGORICAL_LEVELS,
  EVALUATION_MODES,
  MAX_FOLDS,
  SCALINGS,
  MAX_TRAINING_RUNTIME_SECONDS,
  SERVERLESS_MAX_CONCURRENCY,
  SERVERLESS_MEMORY_SIZES,
  SERVERLESS_WITH_SERVE,
  SERVERLESS_WITH_VPC,
  type EvaluationMode,
  type PredictorType,
  type Scaling,
  type StageDefaults,
} from '../domain/runConfig';

/** Environment variable names shared by serverless.yml, the handlers and the local cloud. */
export const STAGE_ENV = {
  dataBucket: 'DATA_BUCKET',
  rawPrefix: 'RAW_PREFIX',
  runsPrefix: 'RUNS_PREFIX',
  datasetKey: 'DATASET_KEY',
  namePrefix: 'NAME_PREFIX',
  labelColumn: 'LABEL_COLUMN',
  predictorType: 'PREDICTOR_TYPE',
  k: 'KNN_K',
  sampleSize: 'KNN_SAMPLE_SIZE',
  indexType: 'KNN_INDEX_TYPE',
  indexMetric: 'KNN_INDEX_METRIC',
  testFraction: 'TEST_FRACTION',
  splitSeed: 'SPLIT_SEED',
  knnImage: 'KNN_IMAGE_URI',
  sageMakerRoleArn: 'SAGEMAKER_ROLE_ARN',
  trainingInstanceType: 'TRAINING_INSTANCE_TYPE',
  trainingInstanceCount: 'TRAINING_INSTANCE_COUNT',
  trainingVolumeSizeInGB: 'TRAINING_VOLUME_GB',
  trainingMaxRuntimeSeconds: 'TRAINING_MAX_RUNTIME_SECONDS',
  hostingInstanceType: 'HOSTING_INSTANCE_TYPE',
  hostingInstanceCount: 'HOSTING_INSTANCE_COUNT',
  endpointMaxWaitSeconds: 'ENDPOINT_MAX_WAIT_SECONDS',
  endpointPollSeconds: 'ENDPOINT_POLL_SECONDS',
  evaluationMode: 'EVALUATION_MODE',
  serverlessMemorySizeInMB: 'SERVERLESS_MEMORY_MB',
  serverlessMaxConcurrency: 'SERVERLESS_MAX_CONCURRENCY',
  transformInstanceType: 'TRANSFORM_INSTANCE_TYPE',
  transformInstanceCount: 'TRANSFORM_INSTANCE_COUNT',
  classifierGateMetric: 'GATE_METRIC_CLASSIFIER',
  classifierGateThreshold: 'GATE_THRESHOLD_CLASSIFIER',
  regressorGateMetric: 'GATE_METRIC_REGRESSOR',
  regressorGateThreshold: 'GATE_THRESHOLD_REGRESSOR',
  maxDatasetBytes: 'MAX_DATASET_BYTES',
  crossValidationFolds: 'CROSS_VALIDATION_FOLDS',
  vpcSubnetIds: 'VPC_SUBNET_IDS',
  vpcSecurityGroupIds: 'VPC_SECURITY_GROUP_IDS',
  trainingVolumeKmsKeyId: 'TRAINING_VOLUME_KMS_KEY_ID',
  trainingOutputKmsKeyId: 'TRAINING_OUTPUT_KMS_KEY_ID',
  endpointKmsKeyId: 'ENDPOINT_KMS_KEY_ID',
  notificationBus: 'NOTIFICATION_BUS',
  serve: 'SERVE',
  serveKeep: 'SERVE_KEEP',
  tuning: 'TUNING',
  featureScaling: 'FEATURE_SCALING',
  featureCategorical: 'FEATURE_CATEGORICAL',
  featurePca: 'FEATURE_PCA',
  featureDrop: 'FEATURE_DROP',
  featureMaxCategoricalLevels: 'FEATURE_MAX_CATEGORICAL_LEVELS',
  capacityMaxQueueSeconds: 'CAPACITY_MAX_QUEUE_SECONDS',
  capacityInitialDelaySeconds: 'CAPACITY_INITIAL_DELAY_SECONDS',
  capacityMaxDelaySeconds: 'CAPACITY_MAX_DELAY_SECONDS',
} as const;

export { ConfigurationError };

function text(env: Env, name: string, fallback?: string): string {
  const value = env[name] ?? fallback;
  if (value === undefined || value === '') throw new ConfigurationError(`Environment variable ${name} is not set`);
  return value;
}

function number(env: Env, name: string, fallback: number, check: (n: number) => boolean = Number.isFinite): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!check(value)) throw new ConfigurationError(`Environment variable ${name} has an invalid value "${raw}"`);
  return value;
}

const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ConfigurationError(`Environment variable ${name} must be true or false, got "${raw}"`);
}

export const INDEX_TYPES = ['faiss.Flat', 'faiss.IVFFlat', 'faiss.IVFPQ'] as const;
export const INDEX_METRICS = ['L2', 'INNER_PRODUCT', 'COSINE'] as const;

/** `{ [hyperparameter]: value }` when the variable is set to one of `choices`, `{}` when it is unset or empty. */
function optionalChoice(env: Env, name: string, hyperparameter: string, choices: readonly string[]) {
  const raw = env[name];
  if (raw === undefined || raw === '') return {};
  if (!choices.includes(raw)) {
    throw new ConfigurationError(`Environment variable ${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return { [hyperparameter]: raw };
}

/** The evaluation mode and its settings; empty transform settings mean the hosting instance type and count. */
function evaluationFromEnv(env: Env, serve: boolean, security: StageDefaults['security']): StageDefaults['evaluation'] {
  const mode = text(env, STAGE_ENV.evaluationMode, 'endpoint');
  if (!(EVALUATION_MODES as readonly string[]).includes(mode)) {
    throw new ConfigurationError(
      `Environment variable ${STAGE_ENV.evaluationMode} must be one of ${EVALUATION_MODES.join(', ')}, got "${mode}"`,
    );
  }
  if (mode === 'serverless' && serve)
    throw new ConfigurationError(
      `${STAGE_ENV.evaluationMode}=serverless with ${STAGE_ENV.serve}=true: ${SERVERLESS_WITH_SERVE}`,
    );
  if (mode === 'serverless' && security.vpc)
    throw new ConfigurationError(`${STAGE_ENV.evaluationMode}=serverless: ${SERVERLESS_WITH_VPC}`);
  const transformType = env[STAGE_ENV.transformInstanceType] || undefined;
  const transformCount = env[STAGE_ENV.transformInstanceCount]
    ? number(env, STAGE_ENV.transformInstanceCount, 1, positiveInteger)
    : undefined;
  return {
    mode: mode as EvaluationMode,
    serverless: {
      memorySizeInMB: number(env, STAGE_ENV.serverlessMemorySizeInMB, 2048, (n) =>
        (SERVERLESS_MEMORY_SIZES as readonly number[]).includes(n),
      ),
      maxConcurrency: number(
        env,
        STAGE_ENV.serverlessMaxConcurrency,
        4,
        (n) => positiveInteger(n) && n <= SERVERLESS_MAX_CONCURRENCY,
      ),
    },
    transform: {
      ...(transformType ? { instanceType: transformType } : {}),
      ...(transformCount ? { instanceCount: transformCount } : {}),
    },
  };
}

/** Reads the stage's defaults from the Lambda environment; fails fast naming the variable that is wrong. */
export function stageDefaultsFromEnv(env: Env = process.env): StageDefaults {
  const predictorType = text(env, STAGE_ENV.predictorType, 'classifier');
  if (predictorType !== 'classifier' && predictorType !== 'regressor') {
    throw new ConfigurationError(`Environment variable ${STAGE_ENV.predictorType} must be classifier or regressor`);
  }
  const serve = bool(env, STAGE_ENV.serve, false);
  const security = securityFromEnv(env);
  return {
    dataBucket: text(env, STAGE_ENV.dataBucket),
    rawPrefix: text(env, STAGE_ENV.rawPrefix, 'raw/'),
    runsPrefix: text(env, STAGE_ENV.runsPrefix, 'runs/'),
    datasetKey: text(env, STAGE_ENV.datasetKey, 'raw/iris.csv'),
    namePrefix: text(env, STAGE_ENV.namePrefix),
    labelColumn: text(env, STAGE_ENV.labelColumn, 'Species'),
    predictorType: predictorType as PredictorType,
    hyperparameters: {
      k: String(number(env, STAGE_ENV.k, 1, positiveInteger)),
      sample_size: String(number(env, STAGE_ENV.sampleSize, 1000, positiveInteger)),
      // Empty: the algorithm's defaults (faiss.Flat, L2), and nothing extra in the training request.
      ...optionalChoice(env, STAGE_ENV.indexType, 'index_type', INDEX_TYPES),
      ...optionalChoice(env, STAGE_ENV.indexMetric, 'index_metric', INDEX_METRICS),
    },
    split: {
      testFraction: number(env, STAGE_ENV.testFraction, 0.25, (n) => n > 0 && n < 1),
      seed: number(env, STAGE_ENV.splitSeed, 0, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32),
    },
    training: {
      image: text(env, STAGE_ENV.knnImage),
      roleArn: text(env, STAGE_ENV.sageMakerRoleArn),
      instanceType: text(env, STAGE_ENV.trainingInstanceType, 'ml.m5.large'),
      instanceCount: number(env, STAGE_ENV.trainingInstanceCount, 1, positiveInteger),
      volumeSizeInGB: number(env, STAGE_ENV.trainingVolumeSizeInGB, 5, positiveInteger),
      maxRuntimeInSeconds: number(
        env,
        STAGE_ENV.trainingMaxRuntimeSeconds,
        3600,
        (n) => positiveInteger(n) && n <= MAX_TRAINING_RUNTIME_SECONDS,
      ),
    },
    hosting: {
      instanceType: text(env, STAGE_ENV.hostingInstanceType, 'ml.m5.large'),
      instanceCount: number(env, STAGE_ENV.hostingInstanceCount, 1, positiveInteger),
      maxWaitSeconds: number(env, STAGE_ENV.endpointMaxWaitSeconds, 3600, positiveInteger),
      pollSeconds: number(env, STAGE_ENV.endpointPollSeconds, 30, positiveInteger),
    },
    evaluation: evaluationFromEnv(env, serve, security),
    qualityGate: {
      classifier: {
        metric: text(env, STAGE_ENV.classifierGateMetric, 'accuracy'),
        threshold: number(env, STAGE_ENV.classifierGateThreshold, 0.9),
      },
      regressor: {
        metric: text(env, STAGE_ENV.regressorGateMetric, 'r2'),
        threshold: number(env, STAGE_ENV.regressorGateThreshold, 0),
      },
    },
    maxDatasetBytes: number(env, STAGE_ENV.maxDatasetBytes, 2 * 1024 * 1024 * 1024, positiveInteger),
    security,
    // An EventBridge bus for run-outcome events; empty turns notifications off.
    notificationBus: env[STAGE_ENV.notificationBus] ?? 'default',
    serve: {
      enabled: serve,
      keep: number(env, STAGE_ENV.serveKeep, 2, positiveInteger),
    },
    capacity: {
      maxQueueSeconds: number(
        env,
        STAGE_ENV.capacityMaxQueueSeconds,
        DEFAULT_CAPACITY.maxQueueSeconds,
        positiveInteger,
      ),
      initialDelaySeconds: number(
        env,
        STAGE_ENV.capacityInitialDelaySeconds,
        DEFAULT_CAPACITY.initialDelaySeconds,
        positiveInteger,
      ),
      maxDelaySeconds: number(
        env,
        STAGE_ENV.capacityMaxDelaySeconds,
        DEFAULT_CAPACITY.maxDelaySeconds,
        positiveInteger,
      ),
    },
    crossValidationFolds: number(
      env,
      STAGE_ENV.crossValidationFolds,
      0,
      (n) => n === 0 || (Number.isInteger(n) && n >= 2 && n <= MAX_FOLDS),
    ),
    ...tuningFromEnv(env),
    features: featuresFromEnv(env),
  };
}

/** The stage's feature options: empty variables mean off (scaling none, no PCA, nothing categorical or dropped). */
function featuresFromEnv(env: Env): StageDefaults['features'] {
  const scaling = env[STAGE_ENV.featureScaling] || 'none';
  if (!(SCALINGS as readonly string[]).includes(scaling)) {
    throw new ConfigurationError(
      `Environment variable ${STAGE_ENV.featureScaling} must be one of ${SCALINGS.join(', ')}, got "${scaling}"`,
    );
  }
  const categorical = (env[STAGE_ENV.featureCategorical] ?? '').trim();
  const pcaText = (env[STAGE_ENV.featurePca] ?? '').trim();
  const pca = pcaText === '' ? null : Number(pcaText);
  if (pca !== null && !(pca > 0 && (pca < 1 || Number.isInteger(pca)))) {
    throw new ConfigurationError(
      `Environment variable ${STAGE_ENV.featurePca} must be empty (no PCA), a whole number of components or a fraction between 0 and 1, got "${pcaText}"`,
    );
  }
  return {
    scaling: scaling as Scaling,
    categorical: categorical === 'auto' ? 'auto' : list(env, STAGE_ENV.featureCategorical),
    pca,
    drop: list(env, STAGE_ENV.featureDrop),
    maxCategoricalLevels: number(
      env,
      STAGE_ENV.featureMaxCategoricalLevels,
      DEFAULT_MAX_CATEGORICAL_LEVELS,
      positiveInteger,
    ),
  };
}

/** TUNING: empty (off), the --tune syntax (`Grid:k=1..15`) or the execution input's `tuning` object as JSON. */
function tuningFromEnv(env: Env): { tuning?: TuningInput } {
  const raw = (env[STAGE_ENV.tuning] ?? '').trim();
  if (raw === '') return {};
  let candidate: unknown;
  try {
    candidate = raw.startsWith('{') ? JSON.parse(raw) : parseTuneOption(raw);
  } catch (error) {
    throw new ConfigurationError(`Environment variable ${STAGE_ENV.tuning}: ${(error as Error).message}`);
  }
  const parsed = tuningInputSchema.safeParse(candidate);
  if (!parsed.success)
    throw new ConfigurationError(
      `Environment variable ${STAGE_ENV.tuning}: ${parsed.error.issues.map((i) => `${['tuning', ...i.path].join('.')}: ${i.message}`).join('; ')}`,
    );
  return { tuning: parsed.data };
}

/** The stage defaults of this Lambda environment, parsed and validated once per cold start. */
export const stageDefaults = memoiseOnEnv(Object.values(STAGE_ENV), stageDefaultsFromEnv);

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Optional VPC and KMS settings; a VPC needs both subnets and security groups. */
function securityFromEnv(env: Env): SecuritySettings {
  const subnets = list(env, STAGE_ENV.vpcSubnetIds);
  const securityGroupIds = list(env, STAGE_ENV.vpcSecurityGroupIds);
  if (subnets.length > 0 !== securityGroupIds.length > 0) {
    throw new ConfigurationError(`${STAGE_ENV.vpcSubnetIds} and ${STAGE_ENV.vpcSecurityGroupIds} must be set together`);
  }
  if (subnets.some((s) => !/^subnet-[0-9a-f]+$/.test(s)) || securityGroupIds.some((g) => !/^sg-[0-9a-f]+$/.test(g))) {
    throw new ConfigurationError(
      `${STAGE_ENV.vpcSubnetIds} / ${STAGE_ENV.vpcSecurityGroupIds} must list subnet-… and sg-… ids`,
    );
  }
  const optional = (name: string) => (env[name] ? env[name] : undefined);
  return {
    ...(subnets.length ? { vpc: { subnets, securityGroupIds } } : {}),
    ...(optional(STAGE_ENV.trainingVolumeKmsKeyId)
      ? { trainingVolumeKmsKeyId: optional(STAGE_ENV.trainingVolumeKmsKeyId) }
      : {}),
    ...(optional(STAGE_ENV.trainingOutputKmsKeyId)
      ? { trainingOutputKmsKeyId: optional(STAGE_ENV.trainingOutputKmsKeyId) }
      : {}),
    ...(optional(STAGE_ENV.endpointKmsKeyId) ? { endpointKmsKeyId: optional(STAGE_ENV.endpointKmsKeyId) } : {}),
  };
}
