// CreateHyperParameterTuningJob / Describe… / Stop… / ListTrainingJobsForHyperParameterTuningJob: a tuning job launches
// training jobs of its TrainingJobDefinition with hyperparameters from its ranges, at most MaxParallelTrainingJobs at a
// time, and scores each by its objective metric (the k-NN test-channel score).
//
// Strategies: Grid runs every combination of the CategoricalParameterRanges (SageMaker computes the count), in order,
// the first range varying slowest. Random draws each hyperparameter independently and uniformly (Logarithmic: uniform
// in log space) from a Mersenne Twister seeded with RandomSeed. Bayesian and Hyperband are accepted and emulated as
// Random: the emulation has no surrogate model, and Hyperband's early stopping acts on per-epoch metrics, which
// k-NN does not emit, so every job runs to completion. ResourceLimits.MaxRuntimeInSeconds is not enforced locally.
import { createHash } from 'node:crypto';
import { MersenneTwister } from '../../src/domain/random';
import type { Json, LocalSageMakerContext, TrainingJobRecord, TuningJobRecord, TuningJobStatus } from './context';
import { epochSeconds, resourceArn } from './context';
import { SageMakerApiError, validationException } from './errors';
import { createTrainingJob, findTrainingJob, stopTrainingJob } from './trainingJobs';
import { mergeTags } from './tags';
import { requireCapacity, tuningDemand } from './quotas';
import { Violations, validateName } from './validation';

const TUNING_NAME_PATTERN = '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}';
const STRATEGIES = ['Bayesian', 'Random', 'Hyperband', 'Grid'] as const;
/** The built-in k-NN's tunable objective metrics. */
const KNN_OBJECTIVES: Record<string, 'Maximize' | 'Minimize'> = { 'test:accuracy': 'Maximize', 'test:mse': 'Minimize' };
/** How often a running tuning job looks at its training jobs. */
const TUNING_TICK_MS = 20;

/** The tuning jobs of one local SageMaker, keyed by lower-cased name (names map to lower-cased ARNs). */
const tuningJobStore = (context: LocalSageMakerContext) => context.store.tuningJobs;

function validateCreate(request: Json): void {
  const v = new Violations();
  v.string(request.HyperParameterTuningJobName, 'hyperParameterTuningJobName', {
    required: true,
    min: 1,
    max: 32,
    pattern: TUNING_NAME_PATTERN,
  });
  v.tags(request.Tags);
  if (v.struct(request.HyperParameterTuningJobConfig, 'hyperParameterTuningJobConfig', true)) {
    const config = request.HyperParameterTuningJobConfig;
    v.oneOf(config.Strategy, 'hyperParameterTuningJobConfig.strategy', STRATEGIES, true);
    v.oneOf(config.TrainingJobEarlyStoppingType, 'hyperParameterTuningJobConfig.trainingJobEarlyStoppingType', [
      'Off',
      'Auto',
    ]);
    v.integer(config.RandomSeed, 'hyperParameterTuningJobConfig.randomSeed', { min: 0 });
    if (v.struct(config.ResourceLimits, 'hyperParameterTuningJobConfig.resourceLimits', true)) {
      const limits = config.ResourceLimits;
      const path = 'hyperParameterTuningJobConfig.resourceLimits';
      v.integer(limits.MaxNumberOfTrainingJobs, `${path}.maxNumberOfTrainingJobs`, { min: 1 });
      v.integer(limits.MaxParallelTrainingJobs, `${path}.maxParallelTrainingJobs`, { required: true, min: 1 });
      v.integer(limits.MaxRuntimeInSeconds, `${path}.maxRuntimeInSeconds`, { min: 120, max: 15_768_000 });
    }
    if (
      v.struct(
        config.HyperParameterTuningJobObjective,
        'hyperParameterTuningJobConfig.hyperParameterTuningJobObjective',
      )
    ) {
      const objective = config.HyperParameterTuningJobObjective;
      const path = 'hyperParameterTuningJobConfig.hyperParameterTuningJobObjective';
      v.oneOf(objective.Type, `${path}.type`, ['Maximize', 'Minimize'], true);
      v.string(objective.MetricName, `${path}.metricName`, { required: true, min: 1, max: 255 });
    }
    v.struct(config.ParameterRanges, 'hyperParameterTuningJobConfig.parameterRanges');
  }
  if (v.struct(request.TrainingJobDefinition, 'trainingJobDefinition', true)) {
    const definition = request.TrainingJobDefinition;
    v.stringMap(definition.StaticHyperParameters, 'trainingJobDefinition.staticHyperParameters', {
      maxEntries: 100,
      keyMax: 256,
      valueMax: 2500,
    });
  }
  v.throwIfAny();
}

interface Ranges {
  integer: { name: string; min: number; max: number; scaling: string }[];
  categorical: { name: string; values: string[] }[];
}

function parseRanges(config: Json): Ranges {
  const ranges = (config.ParameterRanges as Json | undefined) ?? {};
  for (const kind of ['ContinuousParameterRanges', 'AutoParameters'])
    if (Array.isArray(ranges[kind]) && (ranges[kind] as unknown[]).length > 0)
      throw validationException(`The k-NN algorithm has no continuous hyperparameters to tune (${kind}).`);
  const integer = ((ranges.IntegerParameterRanges as Json[] | undefined) ?? []).map((r) => {
    const [min, max] = [Number(r.MinValue), Number(r.MaxValue)];
    if (!Number.isInteger(min) || !Number.isInteger(max) || min > max)
      throw validationException(
        `The hyperparameter tuning job IntegerParameterRange for ${String(r.Name)} must have integer MinValue <= MaxValue.`,
      );
    return { name: String(r.Name), min, max, scaling: String(r.ScalingType ?? 'Auto') };
  });
  const categorical = ((ranges.CategoricalParameterRanges as Json[] | undefined) ?? []).map((r) => {
    const values = Array.isArray(r.Values) ? r.Values.map(String) : [];
    if (values.length < 1 || values.length > 30)
      throw validationException(
        `The CategoricalParameterRange for ${String(r.Name)} must have between 1 and 30 values.`,
      );
    return { name: String(r.Name), values };
  });
  const names = [...integer, ...categorical].map((r) => r.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) throw validationException(`The hyperparameter ${duplicate} is specified in more than one range.`);
  if (names.length === 0) throw validationException('The hyperparameter tuning job must specify ParameterRanges.');
  return { integer, categorical };
}

/** The combinations the strategy runs: every Grid combination, or MaxNumberOfTrainingJobs seeded random draws. */
function planCombinations(config: Json, ranges: Ranges): Record<string, string>[] {
  const limits = config.ResourceLimits as Json;
  const maxJobs = limits.MaxNumberOfTrainingJobs as number | undefined;
  if (config.Strategy === 'Grid') {
    if (ranges.integer.length > 0)
      throw validationException(
        'The Grid search strategy supports only CategoricalParameterRanges; specify each hyperparameter as a list of values.',
      );
    let combinations: Record<string, string>[] = [{}];
    for (const range of ranges.categorical)
      combinations = combinations.flatMap((c) => range.values.map((value) => ({ ...c, [range.name]: value })));
    return maxJobs === undefined ? combinations : combinations.slice(0, maxJobs);
  }
  if (maxJobs === undefined)
    throw validationException(
      `ResourceLimits.MaxNumberOfTrainingJobs is required for the ${String(config.Strategy)} strategy.`,
    );
  const random = new MersenneTwister(
    typeof config.RandomSeed === 'number' ? config.RandomSeed : Math.floor(Math.random() * 2 ** 31),
  );
  const uniform = () => random.nextUint32() / 2 ** 32;
  return Array.from({ length: maxJobs }, () => {
    const combination: Record<string, string> = {};
    for (const r of ranges.integer) {
      const value =
        r.scaling === 'Logarithmic' && r.min > 0
          ? Math.min(
              r.max,
              Math.max(r.min, Math.round(Math.exp(Math.log(r.min) + uniform() * Math.log(r.max / r.min)))),
            )
          : r.min + random.nextIntInclusive(r.max - r.min);
      combination[r.name] = String(value);
    }
    for (const r of ranges.categorical) combination[r.name] = r.values[random.nextIntInclusive(r.values.length - 1)];
    return combination;
  });
}

export function createHyperParameterTuningJob(context: LocalSageMakerContext, request: Json): Json {
  validateCreate(request);
  const name = request.HyperParameterTuningJobName as string;
  const config = request.HyperParameterTuningJobConfig as Json;
  const objective = config.HyperParameterTuningJobObjective as Json | undefined;
  if (!objective) throw validationException('HyperParameterTuningJobObjective is required for this algorithm.');
  if (!Object.hasOwn(KNN_OBJECTIVES, objective.MetricName as string))
    throw validationException(
      `The objective metric ${String(objective.MetricName)} is not a metric of the k-NN algorithm; use one of ${Object.keys(KNN_OBJECTIVES).join(', ')}.`,
    );
  const ranges = parseRanges(config);
  const definition = request.TrainingJobDefinition as Json;
  const statics = (definition.StaticHyperParameters as Record<string, string> | undefined) ?? {};
  const clash = [...ranges.integer, ...ranges.categorical].find((r) => Object.hasOwn(statics, r.name));
  if (clash)
    throw validationException(
      `The hyperparameter ${clash.name} is both tunable and static; remove it from StaticHyperParameters.`,
    );
  const store = tuningJobStore(context);
  const arn = resourceArn(context, 'hyper-parameter-tuning-job', name);
  if (store.has(name.toLowerCase()))
    throw new SageMakerApiError('ResourceInUse', `Hyperparameter tuning job ${arn} already exists.`);
  const plan = planCombinations(config, ranges);
  // The tuning job's parallel training jobs count against the training quota: a request whose parallel demand
  // does not fit now is refused at the create call, like CreateTrainingJob (README "Bursts and quotas").
  requireCapacity(context, 'training job', tuningDemand(request));
  const now = new Date();
  const job: TuningJobRecord = {
    name,
    arn,
    request: structuredClone(request),
    status: 'InProgress',
    creationTime: now,
    lastModifiedTime: now,
    plan,
    trainingJobs: [],
  };
  store.set(name.toLowerCase(), job);
  mergeTags(context, arn, request.Tags);
  context.scheduler.after(
    TUNING_TICK_MS,
    () => runTuningJob(context, job),
    (error) => finish(context, job, 'Failed', `InternalServerError: ${describe(error)}`),
  );
  return { HyperParameterTuningJobArn: arn };
}

/** `<tuning job>-NNN-<8 hex>`, as SageMaker names the training jobs of a tuning job. */
export function tuningTrainingJobName(job: Pick<TuningJobRecord, 'name' | 'arn'>, index: number): string {
  const hash = createHash('sha256').update(`${job.arn}#${index}`).digest('hex').slice(0, 8);
  return `${job.name}-${String(index + 1).padStart(3, '0')}-${hash}`;
}

function launch(context: LocalSageMakerContext, job: TuningJobRecord): void {
  const index = job.trainingJobs.length;
  const tuned = job.plan[index];
  const {
    StaticHyperParameters: statics,
    DefinitionName: _definition,
    TuningObjective: _objective,
    HyperParameterRanges: _ranges,
    ...definition
  } = job.request.TrainingJobDefinition as Json;
  const name = tuningTrainingJobName(job, index);
  createTrainingJob(context, {
    ...definition,
    TrainingJobName: name,
    HyperParameters: { ...((statics as Record<string, string> | undefined) ?? {}), ...tuned },
    // The tuning job's tags are added to every training job it launches.
    ...(Array.isArray(job.request.Tags) && job.request.Tags.length > 0 ? { Tags: job.request.Tags } : {}),
  });
  findTrainingJob(context, name).tuningJobArn = job.arn;
  job.trainingJobs.push({ name, tuned });
}

const terminal = (status: string) => status === 'Completed' || status === 'Failed' || status === 'Stopped';

async function runTuningJob(context: LocalSageMakerContext, job: TuningJobRecord): Promise<void> {
  const parallel = ((job.request.HyperParameterTuningJobConfig as Json).ResourceLimits as Json)
    .MaxParallelTrainingJobs as number;
  while (!context.scheduler.isClosed) {
    const children = trainingJobsOf(context, job);
    const running = children.filter((child) => !terminal(child.status)).length;
    if (job.status === 'Stopping') {
      if (running === 0) return finish(context, job, 'Stopped');
    } else if (running === 0 && job.trainingJobs.length === job.plan.length) {
      const scored = children.filter((child) => objectiveOf(job, child) !== undefined).length;
      return scored > 0
        ? finish(context, job, 'Completed')
        : finish(context, job, 'Failed', 'All training jobs failed or reported no objective metric.');
    } else {
      for (let free = parallel - running; free > 0 && job.trainingJobs.length < job.plan.length; free--) {
        try {
          launch(context, job);
        } catch (error) {
          // Another job took the instances since: launch the rest when they are free again.
          if ((error as { name?: string }).name === 'ResourceLimitExceeded') break;
          return finish(context, job, 'Failed', `ClientError: ${describe(error)}`);
        }
      }
    }
    await context.scheduler.sleep(TUNING_TICK_MS);
  }
}

function finish(context: LocalSageMakerContext, job: TuningJobRecord, status: TuningJobStatus, reason?: string): void {
  if (terminal(job.status) || context.scheduler.isClosed) return;
  const now = new Date();
  job.status = status;
  job.endTime = now;
  job.lastModifiedTime = now;
  if (reason) job.failureReason = reason.slice(0, 1024);
}

function trainingJobsOf(context: LocalSageMakerContext, job: TuningJobRecord): TrainingJobRecord[] {
  return job.trainingJobs.map(({ name }) => findTrainingJob(context, name));
}

function objective(job: TuningJobRecord): { Type: string; MetricName: string } {
  return (job.request.HyperParameterTuningJobConfig as Json).HyperParameterTuningJobObjective as {
    Type: string;
    MetricName: string;
  };
}

function objectiveOf(job: TuningJobRecord, child: TrainingJobRecord): number | undefined {
  if (child.status !== 'Completed') return undefined;
  return child.finalMetrics?.find((metric) => metric.MetricName === objective(job).MetricName)?.Value;
}

/** HyperParameterTrainingJobSummary of one training job of the tuning job. */
function trainingJobSummary(job: TuningJobRecord, child: TrainingJobRecord, tuned: Record<string, string>): Json {
  const value = objectiveOf(job, child);
  const { Type, MetricName } = objective(job);
  return {
    TrainingJobName: child.name,
    TrainingJobArn: child.arn,
    TuningJobName: job.name,
    CreationTime: epochSeconds(child.creationTime),
    ...(child.trainingStartTime ? { TrainingStartTime: epochSeconds(child.trainingStartTime) } : {}),
    ...(child.trainingEndTime ? { TrainingEndTime: epochSeconds(child.trainingEndTime) } : {}),
    TrainingJobStatus: child.status,
    TunedHyperParameters: tuned,
    ...(child.failureReason ? { FailureReason: child.failureReason } : {}),
    ...(value !== undefined ? { FinalHyperParameterTuningJobObjectiveMetric: { Type, MetricName, Value: value } } : {}),
    ObjectiveStatus: value !== undefined ? 'Succeeded' : terminal(child.status) ? 'Failed' : 'Pending',
  };
}

/**
 * The best training job: the best objective value; among equal values the first launched (for Grid, the first
 * combination in order). AWS does not document how BestTrainingJob breaks ties.
 */
function bestTrainingJob(context: LocalSageMakerContext, job: TuningJobRecord): Json | undefined {
  const maximize = objective(job).Type === 'Maximize';
  let best: { child: TrainingJobRecord; tuned: Record<string, string>; value: number } | undefined;
  for (const { name, tuned } of job.trainingJobs) {
    const child = findTrainingJob(context, name);
    const value = objectiveOf(job, child);
    if (value === undefined) continue;
    if (!best || (maximize ? value > best.value : value < best.value)) best = { child, tuned, value };
  }
  return best && trainingJobSummary(job, best.child, best.tuned);
}

export function findTuningJob(context: LocalSageMakerContext, name: unknown): TuningJobRecord {
  const jobName = validateName(name, 'hyperParameterTuningJobName', TUNING_NAME_PATTERN, 32);
  const job = tuningJobStore(context).get(jobName.toLowerCase());
  if (!job)
    throw new SageMakerApiError('ResourceNotFound', `Amazon SageMaker can't find a tuning job named ${jobName}.`);
  return job;
}

export function describeHyperParameterTuningJob(context: LocalSageMakerContext, request: Json): Json {
  const job = findTuningJob(context, request.HyperParameterTuningJobName);
  const children = job.trainingJobs.map(({ name, tuned }) => ({ child: findTrainingJob(context, name), tuned }));
  const count = (status: string) => children.filter(({ child }) => child.status === status).length;
  const objectives = children.map(({ child }) => objectiveOf(job, child));
  const best = bestTrainingJob(context, job);
  const { Tags: _tags, HyperParameterTuningJobName: _name, ...echoed } = job.request;
  return {
    ...echoed,
    HyperParameterTuningJobName: job.name,
    HyperParameterTuningJobArn: job.arn,
    HyperParameterTuningJobStatus: job.status,
    CreationTime: epochSeconds(job.creationTime),
    LastModifiedTime: epochSeconds(job.lastModifiedTime),
    ...(job.endTime ? { HyperParameterTuningEndTime: epochSeconds(job.endTime) } : {}),
    TrainingJobStatusCounters: {
      Completed: count('Completed'),
      InProgress: count('InProgress') + count('Stopping'),
      RetryableError: 0,
      NonRetryableError: count('Failed'),
      Stopped: count('Stopped'),
    },
    ObjectiveStatusCounters: {
      Succeeded: objectives.filter((v) => v !== undefined).length,
      Pending: children.filter(({ child }) => !terminal(child.status)).length,
      Failed: children.filter(({ child }, i) => terminal(child.status) && objectives[i] === undefined).length,
    },
    ...(best ? { BestTrainingJob: best } : {}),
    ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
  };
}

export function stopHyperParameterTuningJob(context: LocalSageMakerContext, request: Json): Json {
  const job = findTuningJob(context, request.HyperParameterTuningJobName);
  if (job.status !== 'InProgress')
    throw validationException(
      `The request was rejected because the hyperparameter tuning job is in status ${job.status}.`,
    );
  job.status = 'Stopping';
  job.lastModifiedTime = new Date();
  // Stopping a tuning job stops every training job it still runs.
  for (const child of trainingJobsOf(context, job))
    if (child.status === 'InProgress') stopTrainingJob(context, { TrainingJobName: child.name });
  return {};
}

export function listTrainingJobsForHyperParameterTuningJob(context: LocalSageMakerContext, request: Json): Json {
  const job = findTuningJob(context, request.HyperParameterTuningJobName);
  const v = new Violations();
  v.integer(request.MaxResults, 'maxResults', { min: 1, max: 100 });
  v.oneOf(request.SortBy, 'sortBy', ['Name', 'CreationTime', 'Status', 'FinalObjectiveMetricValue']);
  v.oneOf(request.SortOrder, 'sortOrder', ['Ascending', 'Descending']);
  v.oneOf(request.StatusEquals, 'statusEquals', ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']);
  v.string(request.NextToken, 'nextToken', { max: 8192 });
  v.throwIfAny();
  const summaries = job.trainingJobs
    .map(({ name, tuned }) => trainingJobSummary(job, findTrainingJob(context, name), tuned))
    .filter((s) => request.StatusEquals === undefined || s.TrainingJobStatus === request.StatusEquals);
  const sortBy = (request.SortBy as string | undefined) ?? 'Name';
  const direction = request.SortOrder === 'Descending' ? -1 : 1;
  const key = (s: Json): string | number =>
    sortBy === 'CreationTime'
      ? (s.CreationTime as number)
      : sortBy === 'Status'
        ? (s.TrainingJobStatus as string)
        : sortBy === 'FinalObjectiveMetricValue'
          ? (((s.FinalHyperParameterTuningJobObjectiveMetric as Json | undefined)?.Value as number | undefined) ??
            Number.NEGATIVE_INFINITY)
          : (s.TrainingJobName as string);
  summaries.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    if (x !== y) return (x < y ? -1 : 1) * direction;
    return (a.TrainingJobName as string) < (b.TrainingJobName as string) ? -1 : 1;
  });
  const offset = request.NextToken === undefined ? 0 : decodeToken(request.NextToken);
  const pageSize = (request.MaxResults as number | undefined) ?? 10;
  const page = summaries.slice(offset, offset + pageSize);
  return {
    TrainingJobSummaries: page,
    ...(offset + pageSize < summaries.length
      ? { NextToken: Buffer.from(JSON.stringify({ offset: offset + pageSize })).toString('base64') }
      : {}),
  };
}

function decodeToken(token: unknown): number {
  try {
    const { offset } = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')) as { offset: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // answered below
  }
  throw validationException('Invalid pagination token');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
