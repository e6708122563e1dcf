import { resolveRunConfig } from '../../../src/domain/runConfig';
import { SAGEMAKER_NAME_PATTERN } from '../../../src/domain/naming';
import { problemsOf, s3Event, testStageDefaults } from '../../support/stage';

const defaults = testStageDefaults();
const execution = { name: '0c6f0e2a-7d8f-4b8e-9c55-2b7f0d5e8a11' };

describe('console input', () => {
  test("the console's default input runs with the stage defaults", () => {
    const run = resolveRunConfig({ Comment: 'Insert your JSON here' }, execution, defaults);
    expect(run.trigger.type).toBe('console');
    expect(run.runId).toBe(execution.name);
    expect(run.dataset).toMatchObject({ bucket: 'knn-pipeline-dev-data', key: 'raw/iris.csv' });
    expect(run.training.hyperParameters).toEqual({ k: '1', sample_size: '1000', predictor_type: 'classifier' });
    expect(run.split).toEqual({ testFraction: 0.25, seed: 0 });
    expect(run.qualityGate).toEqual({ metric: 'accuracy', threshold: 0.9, direction: 'min' });
    expect(run.uris.trainChannel).toBe(`s3://knn-pipeline-dev-data/runs/${execution.name}/input/train/`);
    for (const name of Object.values(run.names)) {
      expect(name).toMatch(SAGEMAKER_NAME_PATTERN);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });

  test('every field can be set; hyperparameters become strings for SageMaker', () => {
    const run = resolveRunConfig(
      {
        dataset: { key: 'raw/wine.csv' },
        labelColumn: 'quality',
        predictorType: 'regressor',
        hyperparameters: { k: 5, sample_size: '200', index_metric: 'COSINE' },
        split: { testFraction: 0.2, seed: 42 },
        training: { instanceType: 'ml.c5.xlarge', maxRuntimeInSeconds: 600 },
        hosting: { instanceType: 'ml.t2.medium', instanceCount: 2 },
        qualityGate: { metric: 'rmse', threshold: 0.8 },
      },
      execution,
      defaults,
    );
    expect(run.training.hyperParameters).toEqual({
      k: '5',
      sample_size: '200',
      index_metric: 'COSINE',
      predictor_type: 'regressor',
    });
    expect(run.training).toMatchObject({ instanceType: 'ml.c5.xlarge', maxRuntimeInSeconds: 600 });
    expect(run.hosting).toMatchObject({ instanceType: 'ml.t2.medium', instanceCount: 2, maxWaitPolls: 120 });
    expect(run.qualityGate).toEqual({ metric: 'rmse', threshold: 0.8, direction: 'max' });
  });

  test('an invalid input fails with one message listing every invalid field', () => {
    const problems = problemsOf(() =>
      resolveRunConfig(
        {
          colour: 'blue',
          hyperparameters: { k: 0, sample_size: 'many', distance: 'L1' },
          split: { testFraction: 1.5 },
          training: { instanceType: 'm5.large', instanceCount: 'one' },
        },
        execution,
        defaults,
      ),
    );
    const text = problems.join('\n');
    expect(text).toContain('unknown field "colour"');
    expect(text).toContain('hyperparameters.k');
    expect(text).toContain('hyperparameters.sample_size');
    expect(text).toContain('hyperparameters: unknown field "distance"');
    expect(text).toContain('split.testFraction: must be less than 1');
    expect(text).toContain('training.instanceType: expected an instance type like ml.m5.large');
    expect(text).toContain('training.instanceCount');
    expect(problems.length).toBeGreaterThanOrEqual(7);
  });

  test('test fraction must lie strictly between 0 and 1', () => {
    expect(problemsOf(() => resolveRunConfig({ split: { testFraction: 0 } }, execution, defaults))[0]).toMatch(
      /greater than 0/,
    );
    expect(problemsOf(() => resolveRunConfig({ split: { testFraction: 1 } }, execution, defaults))[0]).toMatch(
      /less than 1/,
    );
  });

  test('datasets outside the raw prefix or the data bucket are refused', () => {
    const problems = problemsOf(() =>
      resolveRunConfig(
        { dataset: { bucket: 'someone-elses', key: 'runs/x/prepared/dataset.csv' } },
        execution,
        defaults,
      ),
    );
    expect(problems.join('\n')).toMatch(/dataset.bucket.*someone-elses/);
    expect(problems.join('\n')).toMatch(/dataset.key: must be under the raw prefix "raw\/"/);
  });

  test('cross-validation folds: 2-20, off by default', () => {
    expect(resolveRunConfig({}, execution, defaults).crossValidation).toEqual({ folds: 0, maxConcurrency: 2 });
    expect(resolveRunConfig({ crossValidation: { folds: 5 } }, execution, defaults).crossValidation.folds).toBe(5);
    expect(problemsOf(() => resolveRunConfig({ crossValidation: { folds: 1 } }, execution, defaults))[0]).toMatch(
      /crossValidation.folds: at least 2 folds/,
    );
    expect(problemsOf(() => resolveRunConfig({ crossValidation: { folds: 50 } }, execution, defaults))[0]).toMatch(
      /at most 20 folds/,
    );
  });

  test('a regressor gate metric is refused for a classifier', () => {
    expect(problemsOf(() => resolveRunConfig({ qualityGate: { metric: 'mse' } }, execution, defaults))[0]).toMatch(
      /"mse" is not a classifier metric/,
    );
  });

  test('execution names that are not safe in names and prefixes are sanitised, keeping distinct names distinct', () => {
    const a = resolveRunConfig({}, { name: 'My Run: #1/../../etc' }, defaults);
    const b = resolveRunConfig({}, { name: 'My Run: #1/../../etd' }, defaults);
    expect(a.runId).toMatch(/^[a-z0-9-]+$/);
    expect(a.runId).not.toBe(b.runId);
    expect(a.keys.root).toBe(`runs/${a.runId}/`);
    expect(a.names.endpoint.length).toBeLessThanOrEqual(63);
  });
});

describe('S3 Object Created event from EventBridge', () => {
  test('the uploaded object becomes the dataset; the run id is derived from the upload', () => {
    const run = resolveRunConfig(s3Event('raw/my data+v2 é.csv'), execution, defaults);
    expect(run.trigger.type).toBe('s3');
    expect(run.dataset.key).toBe('raw/my data+v2 é.csv');
    expect(run.runId).toMatch(/^my-data-v2-e-[0-9a-f]{12}$/);
    expect(run.names.trainingJob).toMatch(SAGEMAKER_NAME_PATTERN);
  });

  test('duplicate deliveries of one upload share a run id; another upload of the same key does not', () => {
    const first = resolveRunConfig(s3Event('raw/iris.csv'), { name: 'exec-a' }, defaults);
    const again = resolveRunConfig(s3Event('raw/iris.csv'), { name: 'exec-b' }, defaults);
    const reupload = resolveRunConfig(
      s3Event('raw/iris.csv', { sequencer: '617f0829932a0000' }),
      { name: 'exec-c' },
      defaults,
    );
    expect(again.runId).toBe(first.runId);
    expect(reupload.runId).not.toBe(first.runId);
  });

  test('other S3 event types are refused by name', () => {
    const event = { ...s3Event('raw/iris.csv'), 'detail-type': 'Object Deleted' };
    expect(problemsOf(() => resolveRunConfig(event, execution, defaults))[0]).toMatch(/Object Created.*Object Deleted/);
  });

  test('uploads outside the raw prefix are refused', () => {
    expect(
      problemsOf(() => resolveRunConfig(s3Event('runs/x/evaluation/metrics.json'), execution, defaults))[0],
    ).toMatch(/raw prefix/);
  });
});

test('a schedule event retrains on the configured dataset key', () => {
  const run = resolveRunConfig(
    {
      version: '0',
      id: 'abc',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      resources: ['arn:aws:events:us-east-1:1:rule/r'],
      detail: {},
    },
    execution,
    defaults,
  );
  expect(run.trigger).toEqual({ type: 'schedule', executionName: execution.name, eventId: 'abc' });
  expect(run.dataset.key).toBe('raw/iris.csv');
});

describe('evaluation mode', () => {
  const withMode = (mode: string, extra: Record<string, unknown> = {}) =>
    resolveRunConfig({ evaluation: { mode, ...extra } }, execution, defaults).evaluation;

  test('a real-time endpoint by default; serverless and batch transform carry only their own settings', () => {
    expect(resolveRunConfig({}, execution, defaults).evaluation).toEqual({ mode: 'endpoint' });
    expect(withMode('serverless')).toEqual({
      mode: 'serverless',
      serverless: { memorySizeInMB: 2048, maxConcurrency: 4 },
    });
    expect(withMode('serverless', { serverless: { memorySizeInMB: 6144 } })).toEqual({
      mode: 'serverless',
      serverless: { memorySizeInMB: 6144, maxConcurrency: 4 },
    });
    // A transform job defaults to the run's hosting instances, the run's own hosting overrides included.
    expect(withMode('batchTransform')).toEqual({
      mode: 'batchTransform',
      transform: { instanceType: 'ml.m5.large', instanceCount: 1 },
    });
    expect(
      resolveRunConfig(
        { hosting: { instanceType: 'ml.c5.xlarge', instanceCount: 2 }, evaluation: { mode: 'batchTransform' } },
        execution,
        defaults,
      ).evaluation,
    ).toEqual({ mode: 'batchTransform', transform: { instanceType: 'ml.c5.xlarge', instanceCount: 2 } });
    expect(withMode('batchTransform', { transform: { instanceCount: 3 } })).toEqual({
      mode: 'batchTransform',
      transform: { instanceType: 'ml.m5.large', instanceCount: 3 },
    });
  });

  test('the stage chooses the default mode and settings', () => {
    const stage = testStageDefaults({
      evaluation: {
        mode: 'batchTransform',
        serverless: { memorySizeInMB: 1024, maxConcurrency: 1 },
        transform: { instanceType: 'ml.m5.xlarge' },
      },
    });
    expect(resolveRunConfig({}, execution, stage).evaluation).toEqual({
      mode: 'batchTransform',
      transform: { instanceType: 'ml.m5.xlarge', instanceCount: 1 },
    });
    expect(resolveRunConfig({ evaluation: { mode: 'serverless' } }, execution, stage).evaluation).toEqual({
      mode: 'serverless',
      serverless: { memorySizeInMB: 1024, maxConcurrency: 1 },
    });
  });

  test('invalid settings are named by field', () => {
    const problems = problemsOf(() =>
      resolveRunConfig(
        {
          evaluation: {
            mode: 'serverless',
            serverless: { memorySizeInMB: 1536, maxConcurrency: 500 },
            transform: { instanceType: 'm5' },
          },
        },
        execution,
        defaults,
      ),
    );
    expect(problems).toEqual([
      'evaluation.serverless.memorySizeInMB: must be one of 1024, 2048, 3072, 4096, 5120, 6144 (MB)',
      expect.stringMatching(/^evaluation\.serverless\.maxConcurrency: /),
      'evaluation.transform.instanceType: expected an instance type like ml.m5.large',
    ]);
    expect(problemsOf(() => withMode('async'))[0]).toMatch(/^evaluation\.mode: /);
    expect(problemsOf(() => resolveRunConfig({ evaluation: { batch: true } }, execution, defaults))[0]).toBe(
      'evaluation: unknown field "batch"',
    );
  });

  test("settings of another mode than the run's are refused, not silently ignored", () => {
    expect(
      problemsOf(() => resolveRunConfig({ evaluation: { serverless: { maxConcurrency: 2 } } }, execution, defaults)),
    ).toEqual([
      'evaluation.serverless: applies only to evaluation.mode "serverless", and this run\'s mode is "endpoint"',
    ]);
    expect(problemsOf(() => withMode('serverless', { transform: { instanceCount: 2 } }))).toEqual([
      'evaluation.transform: applies only to evaluation.mode "batchTransform", and this run\'s mode is "serverless"',
    ]);
  });

  test('serverless is refused with serving mode (the stable endpoint stays instance-based) and in a VPC stage', () => {
    const withServe = problemsOf(() =>
      resolveRunConfig({ serve: true, evaluation: { mode: 'serverless' } }, execution, defaults),
    );
    expect(withServe).toEqual([expect.stringMatching(/^evaluation\.mode: a serverless endpoint cannot be combined/)]);
    expect(withServe[0]).toMatch(/an instance endpoint cannot be updated to a serverless config/);
    expect(withServe[0]).toMatch(/use "endpoint" or "batchTransform" with serve/);
    // The stage's serve counts as much as the input's.
    const servingStage = testStageDefaults({ serve: { enabled: true, keep: 2 } });
    expect(problemsOf(() => resolveRunConfig({ evaluation: { mode: 'serverless' } }, execution, servingStage))).toEqual(
      withServe,
    );
    expect(resolveRunConfig({ evaluation: { mode: 'batchTransform' } }, execution, servingStage).serve.enabled).toBe(
      true,
    );

    const vpcStage = testStageDefaults({ security: { vpc: { subnets: ['subnet-0a'], securityGroupIds: ['sg-0b'] } } });
    expect(problemsOf(() => resolveRunConfig({ evaluation: { mode: 'serverless' } }, execution, vpcStage))).toEqual([
      expect.stringMatching(/^evaluation\.mode: a serverless endpoint cannot run in a VPC/),
    ]);
    expect(resolveRunConfig({ evaluation: { mode: 'batchTransform' } }, execution, vpcStage).evaluation.mode).toBe(
      'batchTransform',
    );
  });
});
