// Every run option of `npm start` and `knn-pipeline start`, once: the flag, its help text and the execution-input
// path it sets (src/domain/runConfig.ts), plus the local stage parameter `npm start` passes it as.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { STAGE_ENV } from '../../src/config/stage';
import {
  CLASSIFIER_GATE_METRICS,
  EVALUATION_MODES,
  MAX_FOLDS,
  REGRESSOR_GATE_METRICS,
  SERVERLESS_MAX_CONCURRENCY,
  SERVERLESS_MEMORY_SIZES,
  SCALINGS,
  type Scaling,
  type ConsoleInput,
  type EvaluationMode,
  type PredictorType,
} from '../../src/domain/runConfig';
import { parseTuneOption, TUNE_SYNTAX, type TuningInput } from '../../src/domain/tuning';

/** Stage parameters by name, as the local cloud takes them (serverless.yml params for a deployed stage). */
export type StageParams = Partial<Record<keyof typeof STAGE_ENV, string>>;

type Hyperparameters = NonNullable<ConsoleInput['hyperparameters']>;
export type IndexType = NonNullable<Hyperparameters['index_type']>;
export type IndexMetric = NonNullable<Hyperparameters['index_metric']>;
export type GateMetric = NonNullable<NonNullable<ConsoleInput['qualityGate']>['metric']>;

const PREDICTOR_TYPES = ['classifier', 'regressor'] as const satisfies readonly PredictorType[];
const INDEX_TYPES = ['faiss.Flat', 'faiss.IVFFlat', 'faiss.IVFPQ'] as const satisfies readonly IndexType[];
const INDEX_METRICS = ['L2', 'INNER_PRODUCT', 'COSINE'] as const satisfies readonly IndexMetric[];
const GATE_METRICS = [...CLASSIFIER_GATE_METRICS, ...REGRESSOR_GATE_METRICS] as const satisfies readonly GateMetric[];

/** The run options as commander parses them; unset options leave the stage defaults in place. */
export interface RunOptions {
  label?: string;
  predictorType?: PredictorType;
  k?: number;
  sampleSize?: number;
  indexType?: IndexType;
  indexMetric?: IndexMetric;
  testFraction?: number;
  seed?: number;
  folds?: number;
  tune?: TuningInput;
  maxQueueSeconds?: number;
  serve?: boolean;
  evaluationMode?: EvaluationMode;
  serverlessMemory?: number;
  serverlessConcurrency?: number;
  transformInstanceType?: string;
  transformInstanceCount?: number;
  gateMetric?: GateMetric;
  gateThreshold?: number;
  scaling?: Scaling;
  categorical?: string[] | 'auto';
  pca?: number;
  drop?: string[];
  maxCategoricalLevels?: number;
}

export function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(
        `${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}`,
      );
    return n;
  };
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('must be a number between 0 and 1 (exclusive)');
  return n;
}

function tune(value: string): TuningInput {
  try {
    return parseTuneOption(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function memorySize(value: string): number {
  const n = Number(value);
  if (!(SERVERLESS_MEMORY_SIZES as readonly number[]).includes(n))
    throw new InvalidArgumentError(`must be one of ${SERVERLESS_MEMORY_SIZES.join(', ')} (MB)`);
  return n;
}

function instanceType(value: string): string {
  if (!/^ml\.[a-z0-9-]+\.[a-z0-9]+$/.test(value))
    throw new InvalidArgumentError('expected an instance type like ml.m5.large');
  return value;
}

function finite(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}

/** A comma list of column names ("id,name"). */
function columns(value: string): string[] {
  const names = value.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InvalidArgumentError('expected column names separated by commas');
  return names;
}

function categoricalColumns(value: string): string[] | 'auto' {
  return value.trim() === 'auto' ? 'auto' : columns(value);
}

function components(value: string): number {
  const n = Number(value);
  if (!(n > 0 && (n < 1 || Number.isInteger(n))))
    throw new InvalidArgumentError('must be a whole number of components or a fraction of variance between 0 and 1');
  return n;
}

/** One run option: its flag, what it means, and where it goes in the execution input. */
export interface RunOptionSpec {
  name: keyof RunOptions;
  flags: string;
  /** The execution-input path (console input of src/domain/runConfig.ts) the option sets. */
  inputPath: string;
  help: string;
  parse?: (value: string) => unknown;
  choices?: readonly string[];
  /** As a local stage parameter (`npm start` runs on an upload, so the stage's parameters carry the options). */
  stageParams?: (value: NonNullable<RunOptions[keyof RunOptions]>, options: RunOptions) => StageParams;
}

const text = (value: unknown) => String(value);
/** The stage keeps one gate per predictor type; the option sets the one this run uses. */
const gateParam = (value: unknown, options: RunOptions, which: 'Metric' | 'Threshold'): StageParams => ({
  [`${options.predictorType ?? 'classifier'}Gate${which}`]: text(value),
});

export const RUN_OPTIONS: readonly RunOptionSpec[] = [
  {
    name: 'label',
    flags: '--label <column>',
    inputPath: 'labelColumn',
    help: 'label column, by name (stage default: Species)',
    stageParams: (v) => ({ labelColumn: text(v) }),
  },
  {
    name: 'predictorType',
    flags: '--predictor-type <type>',
    inputPath: 'predictorType',
    help: 'classifier (labels encoded 0..C-1, sorted) or regressor (numeric label kept)',
    choices: PREDICTOR_TYPES,
    stageParams: (v) => ({ predictorType: text(v) }),
  },
  {
    name: 'k',
    flags: '--k <n>',
    inputPath: 'hyperparameters.k',
    help: 'neighbours (stage default 1)',
    parse: integer('k', 1, 1024),
    stageParams: (v) => ({ k: text(v) }),
  },
  {
    name: 'sampleSize',
    flags: '--sample-size <n>',
    inputPath: 'hyperparameters.sample_size',
    help: 'training points sampled into the index (stage default 1000)',
    parse: integer('sample size', 1),
    stageParams: (v) => ({ sampleSize: text(v) }),
  },
  {
    name: 'indexType',
    flags: '--index-type <type>',
    inputPath: 'hyperparameters.index_type',
    help: 'k-NN index (default faiss.Flat)',
    choices: INDEX_TYPES,
    stageParams: (v) => ({ indexType: text(v) }),
  },
  {
    name: 'indexMetric',
    flags: '--index-metric <metric>',
    inputPath: 'hyperparameters.index_metric',
    help: 'distance of the k-NN index (default L2)',
    choices: INDEX_METRICS,
    stageParams: (v) => ({ indexMetric: text(v) }),
  },
  {
    name: 'testFraction',
    flags: '--test-fraction <f>',
    inputPath: 'split.testFraction',
    help: 'share of rows held out for testing, 0 < f < 1 (stage default 0.25)',
    parse: fraction,
    stageParams: (v) => ({ testFraction: text(v) }),
  },
  {
    name: 'seed',
    flags: '--seed <n>',
    inputPath: 'split.seed',
    help: "split seed, as scikit-learn's random_state (stage default 0)",
    parse: integer('seed', 0, 2 ** 32 - 1),
    stageParams: (v) => ({ splitSeed: text(v) }),
  },
  {
    name: 'folds',
    flags: '--folds <k>',
    inputPath: 'crossValidation.folds',
    help: `k-fold cross-validation (2-${MAX_FOLDS} folds) before training the final model (default off)`,
    parse: integer('folds', 2, MAX_FOLDS),
    stageParams: (v) => ({ crossValidationFolds: text(v) }),
  },
  {
    name: 'tune',
    flags: '--tune <spec>',
    inputPath: 'tuning',
    help: `hyperparameter tuning of k / sample_size on a validation split of the training rows before the final model (default off): ${TUNE_SYNTAX}`,
    parse: tune,
    stageParams: (v) => ({ tuning: JSON.stringify(v) }),
  },
  {
    name: 'maxQueueSeconds',
    flags: '--max-queue-seconds <s>',
    inputPath: 'capacity.maxQueueSeconds',
    help: 'the longest the run waits in total for SageMaker capacity when a quota is full (stage default 10800: 3 h)',
    parse: integer('max-queue-seconds', 1),
    stageParams: (v) => ({ capacityMaxQueueSeconds: text(v) }),
  },
  {
    name: 'serve',
    flags: '--serve',
    inputPath: 'serve',
    help: 'serving mode: promote the model to the stable endpoint if it passes the gate and beats the current one',
    stageParams: (v) => ({ serve: text(v) }),
  },
  {
    name: 'evaluationMode',
    flags: '--evaluation-mode <mode>',
    inputPath: 'evaluation.mode',
    help: 'how the test rows are scored: endpoint (real-time, default), serverless (pay per request) or batchTransform (a transform job, no endpoint)',
    choices: EVALUATION_MODES,
    stageParams: (v) => ({ evaluationMode: text(v) }),
  },
  {
    name: 'serverlessMemory',
    flags: '--serverless-memory <MB>',
    inputPath: 'evaluation.serverless.memorySizeInMB',
    help: `serverless endpoint memory, ${SERVERLESS_MEMORY_SIZES[0]}-${SERVERLESS_MEMORY_SIZES.at(-1)} MB in 1024 MB steps (stage default 2048)`,
    parse: memorySize,
    stageParams: (v) => ({ serverlessMemorySizeInMB: text(v) }),
  },
  {
    name: 'serverlessConcurrency',
    flags: '--serverless-concurrency <n>',
    inputPath: 'evaluation.serverless.maxConcurrency',
    help: `serverless endpoint max concurrent invocations, 1-${SERVERLESS_MAX_CONCURRENCY} (stage default 4)`,
    parse: integer('serverless concurrency', 1, SERVERLESS_MAX_CONCURRENCY),
    stageParams: (v) => ({ serverlessMaxConcurrency: text(v) }),
  },
  {
    name: 'transformInstanceType',
    flags: '--transform-instance-type <type>',
    inputPath: 'evaluation.transform.instanceType',
    help: 'batch transform instance type (default: the hosting instance type)',
    parse: instanceType,
    stageParams: (v) => ({ transformInstanceType: text(v) }),
  },
  {
    name: 'transformInstanceCount',
    flags: '--transform-instance-count <n>',
    inputPath: 'evaluation.transform.instanceCount',
    help: 'batch transform instances (default: the hosting instance count)',
    parse: integer('transform instance count', 1, 100),
    stageParams: (v) => ({ transformInstanceCount: text(v) }),
  },
  {
    name: 'gateMetric',
    flags: '--gate-metric <metric>',
    inputPath: 'qualityGate.metric',
    help: 'quality gate metric (default accuracy for a classifier, r2 for a regressor)',
    choices: GATE_METRICS,
    stageParams: (v, options) => gateParam(v, options, 'Metric'),
  },
  {
    name: 'gateThreshold',
    flags: '--gate-threshold <x>',
    inputPath: 'qualityGate.threshold',
    help: 'quality gate threshold: at least this (mse, rmse, mae: at most) (default 0.9 classifier, 0 regressor)',
    parse: finite,
    stageParams: (v, options) => gateParam(v, options, 'Threshold'),
  },
  {
    name: 'scaling',
    flags: '--scaling <kind>',
    inputPath: 'features.scaling',
    help: 'scale the numeric features, fitted on the training rows: none (default), standard (StandardScaler) or minmax (MinMaxScaler)',
    choices: SCALINGS,
    stageParams: (v) => ({ featureScaling: text(v) }),
  },
  {
    name: 'categorical',
    flags: '--categorical <columns>',
    inputPath: 'features.categorical',
    help: 'columns to one-hot encode (comma list), or auto: every non-numeric column but the label (default none)',
    parse: categoricalColumns,
    stageParams: (v) => ({ featureCategorical: Array.isArray(v) ? v.join(',') : text(v) }),
  },
  {
    name: 'pca',
    flags: '--pca <n>',
    inputPath: 'features.pca',
    help: 'PCA after scaling and encoding: a number of components, or a fraction of variance to keep (default off)',
    parse: components,
    stageParams: (v) => ({ featurePca: text(v) }),
  },
  {
    name: 'drop',
    flags: '--drop <columns>',
    inputPath: 'features.drop',
    help: 'columns to ignore, such as ids (comma list)',
    parse: columns,
    stageParams: (v) => ({ featureDrop: (v as string[]).join(',') }),
  },
  {
    name: 'maxCategoricalLevels',
    flags: '--max-categorical-levels <n>',
    inputPath: 'features.maxCategoricalLevels',
    help: 'most distinct values a categorical column may have (stage default 100)',
    parse: integer('max categorical levels', 1, 1_000_000),
    stageParams: (v) => ({ featureMaxCategoricalLevels: text(v) }),
  },
];

function toOption(spec: RunOptionSpec): Option {
  const option = new Option(spec.flags, `${spec.help} [${spec.inputPath}]`);
  if (spec.choices) option.choices(spec.choices);
  if (spec.parse) option.argParser(spec.parse);
  return option;
}

/** Adds the run options `filter` keeps (all of them by default), in one order and with one help text everywhere. */
export function addRunOptions(command: Command, filter: (spec: RunOptionSpec) => boolean = () => true): Command {
  for (const spec of RUN_OPTIONS.filter(filter)) command.addOption(toOption(spec));
  return command;
}

/** The run options a local stage can take as parameters (`npm start`). */
export const hasStageParam = (spec: RunOptionSpec) => spec.stageParams !== undefined;

export function hasRunOptions(options: RunOptions): boolean {
  return RUN_OPTIONS.some((spec) => options[spec.name] !== undefined);
}

/** The console input for a run on `key` (or the stage's default dataset); stage defaults fill the rest. */
export function consoleInput(key: string | undefined, options: RunOptions): ConsoleInput {
  const input: Record<string, unknown> = key ? { dataset: { key } } : {};
  for (const spec of RUN_OPTIONS) {
    const value = options[spec.name];
    if (value === undefined) continue;
    const path = spec.inputPath.split('.');
    let node = input;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]] = value;
  }
  return input as ConsoleInput;
}

/** The local stage parameters for these options (what serverless.yml params are for a deployed stage). */
export function stageParams(options: RunOptions): StageParams {
  const params: StageParams = {};
  for (const spec of RUN_OPTIONS) {
    const value = options[spec.name];
    if (value !== undefined && spec.stageParams) Object.assign(params, spec.stageParams(value, options));
  }
  return params;
}

/** `label Species, k=3, seed 7…`: the options given, for a one-line summary. */
export function describeRunOptions(options: RunOptions): string {
  return RUN_OPTIONS.filter((spec) => options[spec.name] !== undefined)
    .map((spec) => {
      const value = options[spec.name];
      return `${spec.inputPath} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`;
    })
    .join(', ');
}
