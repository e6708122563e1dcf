import { resolveRunConfig } from '../../../src/domain/runConfig';
import { sageMakerRequests } from '../../../src/domain/sageMakerRequests';
import { isTuningJobName, sageMakerNames, TUNING_JOB_NAME_PATTERN, tuningJobName } from '../../../src/domain/naming';
import { tuningRows, trainTestRows } from '../../../src/domain/split';
import { parseTuneOption } from '../../../src/domain/tuning';
import { chooseTrial, tuningOutcome, type Trial } from '../../../src/domain/trials';
import { problemsOf, testStageDefaults } from '../../support/stage';

const defaults = testStageDefaults();
const execution = { name: 'tune-1' };
const grid = { strategy: 'Grid', ranges: { k: { values: [1, 3, 5] } } };

describe('the tuning run option', () => {
  test('off by default: the Choice state still finds run.tuning.enabled', () => {
    const run = resolveRunConfig({}, execution, defaults);
    expect(run.tuning).toEqual({ enabled: false });
    expect(sageMakerRequests({ ...run, training: { ...run.training } }).tuningJob).toBeUndefined();
  });

  test('Grid: SageMaker computes the job count; the objective follows the predictor type', () => {
    const run = resolveRunConfig({ tuning: grid }, execution, defaults);
    expect(run.tuning).toEqual({
      enabled: true,
      strategy: 'Grid',
      ranges: { k: { values: [1, 3, 5] } },
      jobCount: 3,
      maxParallelJobs: 2,
      maxRuntimeInSeconds: 3600,
      validationFraction: 0.2,
      objective: { type: 'Maximize', metricName: 'test:accuracy' },
    });
    const regressor = resolveRunConfig({ tuning: grid, predictorType: 'regressor' }, execution, defaults);
    expect(regressor.tuning).toMatchObject({ objective: { type: 'Minimize', metricName: 'test:mse' } });
  });

  test.each([
    [{ ...grid, earlyStopping: 'Auto' }, /tuning.earlyStopping: k-NN reports no per-epoch metric/],
    [{ strategy: 'Grid', ranges: { k: { min: 1, max: 9 } } }, /tuning.ranges.k: Grid takes lists of values/],
    [{ ...grid, maxJobs: 3 }, /tuning.maxJobs: Grid runs every combination/],
    [{ strategy: 'Random', ranges: {} }, /tuning.ranges: give a range for k, sample_size or both/],
    [{ strategy: 'Random', ranges: { k: { min: 0, max: 9 } } }, /tuning.ranges.k/],
    [{ strategy: 'Random', ranges: { sample_size: { min: 10, max: 900 } } }, /tuning.ranges.sample_size/],
    [{ strategy: 'Random', ranges: { k: { min: 5, max: 5 } } }, /min must be less than max/],
    [{ strategy: 'Annealing', ranges: { k: { min: 1, max: 5 } } }, /tuning.strategy/],
    [{ ...grid, ranges: { k: { values: [1, 1] } } }, /each value at most once/],
    [{ ...grid, maxRuntimeInSeconds: 20_000 }, /tuning.maxRuntimeInSeconds: 20000 s of tuning.*at most 10800 s fits/],
    [{ ...grid, validationFraction: 1 }, /tuning.validationFraction: must be less than 1/],
  ])('%j is refused before any SageMaker call: %s', (tuning, message) => {
    expect(problemsOf(() => resolveRunConfig({ tuning }, execution, defaults)).join('; ')).toMatch(message);
  });

  test('the request: tuned hyperparameters leave the static ones; tuning channels, never the test channel', () => {
    const run = resolveRunConfig(
      { tuning: { strategy: 'Random', ranges: { k: { min: 1, max: 40 } }, maxJobs: 12, maxParallelJobs: 4 } },
      execution,
      defaults,
    );
    run.training.hyperParameters.feature_dim = '4';
    const request = sageMakerRequests(run).tuningJob as {
      HyperParameterTuningJobName: string;
      HyperParameterTuningJobConfig: unknown;
      TrainingJobDefinition: {
        StaticHyperParameters: Record<string, string>;
        InputDataConfig: { ChannelName: string; DataSource: { S3DataSource: { S3Uri: string } } }[];
        TrainingJobName?: string;
      };
      Tags: unknown;
    };
    expect(request.HyperParameterTuningJobName).toBe(run.names.tuningJob);
    expect(request.HyperParameterTuningJobConfig).toEqual({
      Strategy: 'Random',
      HyperParameterTuningJobObjective: { Type: 'Maximize', MetricName: 'test:accuracy' },
      ResourceLimits: { MaxNumberOfTrainingJobs: 12, MaxParallelTrainingJobs: 4, MaxRuntimeInSeconds: 3600 },
      ParameterRanges: { IntegerParameterRanges: [{ Name: 'k', MinValue: '1', MaxValue: '40', ScalingType: 'Auto' }] },
      TrainingJobEarlyStoppingType: 'Off',
      RandomSeed: 0,
    });
    const definition = request.TrainingJobDefinition;
    expect(definition.StaticHyperParameters).toEqual({
      sample_size: '1000',
      predictor_type: 'classifier',
      feature_dim: '4',
    });
    expect(definition.InputDataConfig.map((c) => [c.ChannelName, c.DataSource.S3DataSource.S3Uri])).toEqual([
      ['train', `s3://knn-pipeline-dev-data/runs/tune-1/input/tuning/train/`],
      ['test', `s3://knn-pipeline-dev-data/runs/tune-1/input/tuning/validation/`],
    ]);
    expect(definition.TrainingJobName).toBeUndefined();
    expect(request.Tags).toEqual([{ Key: 'knn-pipeline:run-id', Value: 'tune-1' }]);
  });
});

test('--tune syntax: strategies, lists, ranges and settings; clear errors', () => {
  expect(parseTuneOption('Grid:k=1..3')).toEqual({ strategy: 'Grid', ranges: { k: { values: [1, 2, 3] } } });
  expect(parseTuneOption('hyperband:k=2/4,sample_size=256..5000,jobs=9,parallel=3')).toEqual({
    strategy: 'Hyperband',
    ranges: { k: { values: [2, 4] }, sample_size: { min: 256, max: 5000 } },
    maxJobs: 9,
    maxParallelJobs: 3,
  });
  expect(() => parseTuneOption('Grid:k=1..31')).toThrow(/at most 30/);
  expect(() => parseTuneOption('Grid:depth=3')).toThrow(/unknown setting "depth".*Syntax: STRATEGY/);
});

test('tuning job names: ≤ 32 characters, SageMaker’s pattern, under the stage prefix, distinct per run id', () => {
  const ids = [
    'r',
    'iris-741d6cb8c7a1',
    'x'.repeat(36),
    'nightly-retrain-grosser-besser-a1b2',
    'nightly-retrain-grosser-besser-a1b3',
  ];
  const names = ids.map((id) => tuningJobName('knnp-production1', id));
  for (const name of names) {
    expect(name.length).toBeLessThanOrEqual(32);
    expect(name).toMatch(TUNING_JOB_NAME_PATTERN);
    expect(name.startsWith('knnp-production1--')).toBe(true);
    // The capacity queue recognises a tuning job's ticket by its name alone.
    expect(isTuningJobName(name)).toBe(true);
    // SageMaker's training job names <tuning job>-NNN-<8 hex> stay within 63 characters.
    expect(`${name}-750-ffffffff`.length).toBeLessThanOrEqual(63);
  }
  expect(new Set(names).size).toBe(names.length);
  // A training job's name (the run's base name) is not taken for a tuning job's, so it is never described as one.
  for (const id of ids) expect(isTuningJobName(sageMakerNames('knnp-production1', id).trainingJob)).toBe(false);
  // As much of the run id as fits, then a hash of the whole run id.
  expect(tuningJobName('knnp-dev', 'iris-741d6cb8c7a1')).toMatch(/^knnp-dev--iris-741d6cb8-[0-9a-f]{8}$/);
});

test('the validation split comes from the training rows only, in train_test_split order', () => {
  const split = trainTestRows(150, { testFraction: 0.25, seed: 0 });
  const tuning = tuningRows(split.train, 0.2, 0);
  expect(tuning.validation.length).toBe(Math.ceil(0.2 * 112));
  expect(tuning.train.length + tuning.validation.length).toBe(112);
  const test = new Set(split.test);
  expect([...tuning.train, ...tuning.validation].some((row) => test.has(row))).toBe(false);
  expect(new Set([...tuning.train, ...tuning.validation])).toEqual(new Set(split.train));
});

describe('choosing the trial', () => {
  const trial = (k: string, objective: number | undefined, name = `job-${k}`): Trial => ({
    trainingJobName: name,
    status: objective === undefined ? 'Failed' : 'Completed',
    hyperParameters: { k },
    ...(objective === undefined ? {} : { objective }),
  });

  test('the best objective; a tie goes to the smallest k (not the first listed); failed trials never win', () => {
    const trials = [trial('7', 0.95), trial('3', 0.95), trial('12', 0.9), trial('1', undefined)];
    expect(chooseTrial(trials, { type: 'Maximize', metricName: 'test:accuracy' })?.hyperParameters.k).toBe('3');
    expect(chooseTrial(trials, { type: 'Minimize', metricName: 'test:mse' })?.hyperParameters.k).toBe('12');
  });

  test('the outcome merges the chosen hyperparameters into the final request’s and marks exactly one trial', () => {
    const outcome = tuningOutcome(
      [trial('5', 0.9), trial('2', 0.95)],
      { type: 'Maximize', metricName: 'test:accuracy' },
      {
        k: '1',
        sample_size: '1000',
        feature_dim: '4',
      },
    );
    expect(outcome.hyperParameters).toEqual({ k: '2', sample_size: '1000', feature_dim: '4' });
    expect(outcome.trials.map((t) => t.chosen)).toEqual([false, true]);
  });

  test('no trial with an objective is an error naming the metric', () => {
    expect(() => tuningOutcome([trial('1', undefined)], { type: 'Maximize', metricName: 'test:accuracy' }, {})).toThrow(
      /none of the 1 training jobs of the tuning job reported test:accuracy/,
    );
  });
});
