// Hyperparameter tuning (SageMaker automatic model tuning) of k and sample_size: the run option, its validation, the
// --tune syntax, the CreateHyperParameterTuningJob request, and the choice of the trial that trains the final model.
import { z } from 'zod';
import { PipelineError } from '../errors';
import type { PredictorType } from '../artifacts/predictorType';

/** AWS's strategy names (HyperParameterTuningJobConfig.Strategy). */
export const TUNING_STRATEGIES = ['Bayesian', 'Random', 'Grid', 'Hyperband'] as const;
export type TuningStrategy = (typeof TUNING_STRATEGIES)[number];

/** The hyperparameters k-NN lets SageMaker tune, with the ranges of "Tune a k-NN Model". */
export const TUNABLE = { k: { min: 1, max: 1024 }, sample_size: { min: 256, max: 20_000_000 } } as const;
export type TunableName = keyof typeof TUNABLE;
export const TUNABLE_NAMES = Object.keys(TUNABLE) as TunableName[];

/** CategoricalParameterRange.Values holds at most 30 values. */
export const MAX_CATEGORICAL_VALUES = 30;
/** Default quotas: 750 training jobs per tuning job, 100 at a time (SageMaker service quotas). */
export const MAX_TUNING_JOBS = 750;
export const MAX_PARALLEL_TUNING_JOBS = 100;
/** ResourceLimits.MaxRuntimeInSeconds: at least 120 s. */
export const MIN_TUNING_RUNTIME_SECONDS = 120;
/** The execution's TimeoutSeconds (statemachine/pipeline.asl.json). */
export const EXECUTION_TIMEOUT_SECONDS = 21_600;
/** Time kept for the states around tuning, training and the endpoint wait (Lambda steps, model, cleanup, report). */
export const PIPELINE_MARGIN_SECONDS = 3_600;
/**
 * The share of the training rows the tuning jobs are scored on: train_test_split(training rows in channel order,
 * test_size=0.2, shuffle=True, random_state=seed). 0.2 keeps 80 % of the rows for the tuning jobs' index.
 */
export const DEFAULT_VALIDATION_FRACTION = 0.2;
export const DEFAULT_TUNING_RUNTIME_SECONDS = 3_600;
export const DEFAULT_RANDOM_JOBS = 10;
export const DEFAULT_PARALLEL_JOBS = 2;

/** One hyperparameter's search space: a list of values (Grid: the only kind) or an integer range. */
const rangeSchema = (name: TunableName) => {
  const { min, max } = TUNABLE[name];
  const value = z.number().int().min(min).max(max);
  return z.union([
    z.strictObject({ values: z.array(value).min(1).max(MAX_CATEGORICAL_VALUES) }),
    z
      .strictObject({
        min: value,
        max: value,
        scaling: z.enum(['Auto', 'Linear', 'Logarithmic']).optional(),
      })
      .refine((r) => r.min < r.max, { message: 'min must be less than max (one value: use values: [n])' }),
  ]);
};

/** The `tuning` section of the execution input (and of the stage parameter `tuning`, as JSON). */
export const tuningInputSchema = z.strictObject({
  strategy: z.enum(TUNING_STRATEGIES),
  ranges: z.strictObject({ k: rangeSchema('k').optional(), sample_size: rangeSchema('sample_size').optional() }),
  maxJobs: z.number().int().min(1).max(MAX_TUNING_JOBS).optional(),
  maxParallelJobs: z.number().int().min(1).max(MAX_PARALLEL_TUNING_JOBS).optional(),
  maxRuntimeInSeconds: z.number().int().min(MIN_TUNING_RUNTIME_SECONDS).optional(),
  validationFraction: z.number().gt(0, 'must be greater than 0').lt(1, 'must be less than 1').optional(),
  /** Only "Off": k-NN reports no per-epoch metric, so early stopping has nothing to act on. */
  earlyStopping: z.enum(['Off', 'Auto']).optional(),
});
export type TuningInput = z.infer<typeof tuningInputSchema>;
export type ParameterRange = NonNullable<TuningInput['ranges']['k']>;

/** The run's tuning, decided by Prepare; `enabled: false` keeps the Choice state's path present. */
export type TuningConfig =
  | { enabled: false }
  | {
      enabled: true;
      strategy: TuningStrategy;
      ranges: Partial<Record<TunableName, ParameterRange>>;
      /** Absent for Grid: SageMaker computes the number of jobs from the value lists. */
      maxJobs?: number;
      /** Training jobs Grid runs (the product of the list lengths), or maxJobs. */
      jobCount: number;
      maxParallelJobs: number;
      maxRuntimeInSeconds: number;
      validationFraction: number;
      objective: TuningObjective;
    };
export type EnabledTuning = Extract<TuningConfig, { enabled: true }>;

export interface TuningObjective {
  type: 'Maximize' | 'Minimize';
  metricName: 'test:accuracy' | 'test:mse';
}

/** k-NN's documented tuning objective for the predictor type. */
export function tuningObjective(predictorType: PredictorType): TuningObjective {
  return predictorType === 'classifier'
    ? { type: 'Maximize', metricName: 'test:accuracy' }
    : { type: 'Minimize', metricName: 'test:mse' };
}

const EARLY_STOPPING_AUTO =
  'k-NN reports no per-epoch metric, so SageMaker has nothing to stop a training job early on; use "Off" (the default)';

/**
 * The run's tuning from the input's `tuning` section (already schema-checked): every problem is added to `problems`
 * with its field path. `budget` is what the rest of the execution may take besides tuning.
 */
export function resolveTuning(
  input: TuningInput | undefined,
  context: { predictorType: PredictorType; trainingMaxRuntimeSeconds: number; endpointMaxWaitSeconds: number },
  problems: string[],
): TuningConfig {
  if (!input) return { enabled: false };
  const ranges = Object.fromEntries(
    TUNABLE_NAMES.filter((name) => input.ranges[name] !== undefined).map((name) => [name, input.ranges[name]!]),
  ) as Partial<Record<TunableName, ParameterRange>>;
  if (Object.keys(ranges).length === 0)
    problems.push('tuning.ranges: give a range for k, sample_size or both (nothing to tune otherwise)');
  if (input.earlyStopping === 'Auto') problems.push(`tuning.earlyStopping: ${EARLY_STOPPING_AUTO}`);

  let jobCount: number;
  if (input.strategy === 'Grid') {
    for (const [name, range] of Object.entries(ranges))
      if (!('values' in range))
        problems.push(
          `tuning.ranges.${name}: Grid takes lists of values (sent as CategoricalParameterRanges), not a min-max range`,
        );
    if (input.maxJobs !== undefined)
      problems.push('tuning.maxJobs: Grid runs every combination of the value lists; SageMaker computes the count');
    jobCount = Object.values(ranges).reduce((n, r) => n * ('values' in r ? new Set(r.values).size : 1), 1);
  } else {
    jobCount = input.maxJobs ?? DEFAULT_RANDOM_JOBS;
  }
  for (const [name, range] of Object.entries(ranges))
    if ('values' in range && new Set(range.values).size !== range.values.length)
      problems.push(`tuning.ranges.${name}.values: each value at most once`);

  const maxRuntimeInSeconds = input.maxRuntimeInSeconds ?? DEFAULT_TUNING_RUNTIME_SECONDS;
  const rest = context.trainingMaxRuntimeSeconds + context.endpointMaxWaitSeconds + PIPELINE_MARGIN_SECONDS;
  const allowed = EXECUTION_TIMEOUT_SECONDS - rest;
  if (maxRuntimeInSeconds > allowed)
    problems.push(
      `tuning.maxRuntimeInSeconds: ${maxRuntimeInSeconds} s of tuning, ${context.trainingMaxRuntimeSeconds} s of final training (training.maxRuntimeInSeconds), ${context.endpointMaxWaitSeconds} s of endpoint wait and ${PIPELINE_MARGIN_SECONDS} s for the other states exceed the execution's ${EXECUTION_TIMEOUT_SECONDS} s timeout; at most ${Math.max(0, allowed)} s fits`,
    );
  return {
    enabled: true,
    strategy: input.strategy,
    ranges,
    ...(input.strategy === 'Grid' ? {} : { maxJobs: jobCount }),
    jobCount,
    maxParallelJobs: Math.min(input.maxParallelJobs ?? DEFAULT_PARALLEL_JOBS, Math.max(1, jobCount)),
    maxRuntimeInSeconds,
    validationFraction: input.validationFraction ?? DEFAULT_VALIDATION_FRACTION,
    objective: tuningObjective(context.predictorType),
  };
}

export class TuneSyntaxError extends PipelineError {
  override name = 'TuneSyntaxError';
}

/** How --tune is written; the error messages repeat it. */
export const TUNE_SYNTAX =
  'STRATEGY[:PARAM=VALUES[,PARAM=VALUES]][,jobs=N][,parallel=N][,runtime=SECONDS][,validation=F] with STRATEGY ' +
  'Grid, Random, Bayesian or Hyperband, PARAM k or sample_size, VALUES a list A/B/C or a range A..B ' +
  '(Grid: every integer of the range), e.g. Grid:k=1..15 or Random:k=1..50,sample_size=256..5000,jobs=20';

/**
 * Parses `--tune`, e.g. `Grid:k=1..15`, `Grid:k=1/3/5,sample_size=500/1000`, `Random:k=1..50,jobs=20,parallel=4`.
 * Grid expands a range into its integers (a list); the other strategies keep it as an integer range.
 */
export function parseTuneOption(text: string): TuningInput {
  const fail = (why: string): never => {
    throw new TuneSyntaxError(`--tune "${text}": ${why}. Syntax: ${TUNE_SYNTAX}`);
  };
  const [strategyText, rest = ''] = text.trim().split(/:(.*)/s, 2);
  const strategy = TUNING_STRATEGIES.find((s) => s.toLowerCase() === strategyText.trim().toLowerCase());
  if (!strategy) return fail(`unknown strategy "${strategyText}"`);
  const input: TuningInput = { strategy, ranges: {} };
  const integerOf = (value: string, what: string) => {
    if (!/^\d+$/.test(value.trim())) fail(`${what} must be a whole number, got "${value}"`);
    return Number(value);
  };
  for (const part of rest.split(',').filter((p) => p.trim() !== '')) {
    const [name, value] = part.split('=', 2).map((s) => s.trim());
    if (value === undefined || value === '') fail(`"${part}" is not NAME=VALUE`);
    if (name === 'k' || name === 'sample_size') {
      const range = /^(\d+)\.\.(\d+)$/.exec(value);
      if (range) {
        const [min, max] = [Number(range[1]), Number(range[2])];
        if (strategy !== 'Grid') input.ranges[name] = { min, max };
        else if (max - min + 1 > MAX_CATEGORICAL_VALUES || max < min)
          fail(
            `a Grid range expands to its integers, at most ${MAX_CATEGORICAL_VALUES}: ${value} has ${max - min + 1}`,
          );
        else input.ranges[name] = { values: Array.from({ length: max - min + 1 }, (_, i) => min + i) };
      } else {
        input.ranges[name] = { values: value.split('/').map((v) => integerOf(v, name)) };
      }
    } else if (name === 'jobs') input.maxJobs = integerOf(value, 'jobs');
    else if (name === 'parallel') input.maxParallelJobs = integerOf(value, 'parallel');
    else if (name === 'runtime') input.maxRuntimeInSeconds = integerOf(value, 'runtime');
    else if (name === 'validation') {
      const f = Number(value);
      if (!Number.isFinite(f)) fail(`validation must be a number, got "${value}"`);
      input.validationFraction = f;
    } else fail(`unknown setting "${name}"`);
  }
  return input;
}
