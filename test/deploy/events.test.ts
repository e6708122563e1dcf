import { readServerlessConfig } from '../../local/serverlessConfig';
/**
 * The sample execution inputs in events/ (console, S3 upload, schedule) are what resolveRunConfig accepts, the
 * serverless.yml params mirror the code's defaults, and the name-prefix rule of scripts/serverless-vars.js agrees
 * with src/domain/naming.ts. No packaging here: these run in milliseconds.
 */
import { testStageDefaults } from '../support/stage';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STAGE_ENV, stageDefaultsFromEnv } from '../../src/config/stage';
import { assertValidNamePrefix, NAME_PREFIX_MAX, RUN_ID_MAX, sageMakerNames } from '../../src/domain/naming';
import { InputValidationError, resolveRunConfig, type StageDefaults } from '../../src/domain/runConfig';
import { parseHyperparameters } from '../../local/knn/hyperparameters';
import { PROJECT_DIR } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const vars = require('../../scripts/serverless-vars.js') as {
  NAME_PREFIX_MAX: number;
  defaultNamePrefix(stage: string): string;
  assertNamePrefix(prefix: string): string;
};

const readJson = (file: string) => JSON.parse(readFileSync(join(PROJECT_DIR, file), 'utf8'));
const config = readServerlessConfig();
const params: Record<string, string> = config.params.default;

/** The dev stage's defaults, as serverless.yml sets them (region us-east-1). */
const DEV: StageDefaults = testStageDefaults({
  // CloudFormation's name for the bucket of stack knn-pipeline-dev (<stack>-<logical id>-<random>), as in events/.
  dataBucket: 'knn-pipeline-dev-databucket-8d3kq2x7m1pa',
  training: {
    ...testStageDefaults().training,
    roleArn: 'arn:aws:iam::123456789012:role/knn-pipeline-dev-SageMakerExecutionRole',
  },
});

const CONSOLE_FIELDS = [
  'Comment',
  'dataset',
  'labelColumn',
  'predictorType',
  'hyperparameters',
  'split',
  'training',
  'hosting',
  'qualityGate',
  'crossValidation',
];
const HYPERPARAMETERS = [
  'k',
  'sample_size',
  'index_type',
  'index_metric',
  'dimension_reduction_type',
  'dimension_reduction_target',
  'faiss_index_ivf_nlists',
  'faiss_index_pq_m',
  'mini_batch_size',
];

describe('serverless.yml params', () => {
  test('the data bucket is named by CloudFormation by default (dataBucketName empty), as in the sample events', () => {
    expect(params.dataBucketName).toBe('');
    expect(DEV.dataBucket).toMatch(new RegExp(`^${config.service}-dev-databucket-[a-z0-9]{12}$`));
  });

  test('every STAGE_ENV variable is set on the provider environment', () => {
    expect(Object.keys(config.provider.environment)).toEqual(expect.arrayContaining(Object.values(STAGE_ENV)));
  });

  test('the params defaults equal the code defaults of stageDefaultsFromEnv', () => {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(config.provider.environment as Record<string, unknown>)) {
      const param = typeof value === 'string' ? /^\$\{param:(\w+)\}$/.exec(value) : null;
      if (param) env[name] = params[param[1]];
    }
    const required = {
      DATA_BUCKET: DEV.dataBucket,
      NAME_PREFIX: DEV.namePrefix,
      KNN_IMAGE_URI: DEV.training.image,
      SAGEMAKER_ROLE_ARN: DEV.training.roleArn,
    };
    // With every param applied, and with none (the code's own fallbacks): the same stage defaults.
    expect(stageDefaultsFromEnv({ ...env, ...required })).toEqual(DEV);
    expect(stageDefaultsFromEnv(required)).toEqual(DEV);
  });

  test('the region map has the us-east-1 k-NN image and only knn:1 URIs', () => {
    expect(config.custom.knnImages['us-east-1']).toBe(DEV.training.image);
    for (const [region, uri] of Object.entries(config.custom.knnImages as Record<string, string>)) {
      expect(uri).toMatch(new RegExp(`^\\d{12}\\.dkr\\.ecr\\.${region}\\.[a-z0-9.]+/knn:1$`));
    }
  });

  test('the schedule is off unless a stage switches it on', () => {
    expect(params.schedule).toBe('rate(7 days)');
    expect(params.scheduleEnabled).toBe('false');
  });
});

describe('name prefix (scripts/serverless-vars.js)', () => {
  test('uses the same limit as src/domain/naming.ts', () => {
    expect(vars.NAME_PREFIX_MAX).toBe(NAME_PREFIX_MAX);
  });

  test.each([
    'dev',
    'test',
    'prod',
    'Dev',
    'feature/very-long-branch-name_2025',
    'x'.repeat(60),
    '---',
    'stage_with_underscores',
  ])('stage %p gives a valid, full-length-safe prefix', (stage) => {
    const prefix = vars.defaultNamePrefix(stage);
    expect(prefix.length).toBeLessThanOrEqual(NAME_PREFIX_MAX);
    expect(() => assertValidNamePrefix(prefix)).not.toThrow();
    expect(prefix).toBe(prefix.toLowerCase());
    // The longest names of a run still fit SageMaker's 63 characters.
    expect(sageMakerNames(prefix, 'r'.repeat(RUN_ID_MAX)).endpoint.length).toBeLessThanOrEqual(63);
  });

  test('short lower-case stages read plainly; long or different-case ones get a hash and stay distinct', () => {
    expect(vars.defaultNamePrefix('dev')).toBe('knnp-dev');
    expect(vars.defaultNamePrefix('Dev')).not.toBe(vars.defaultNamePrefix('dev'));
    expect(vars.defaultNamePrefix('feature-one-very-long')).not.toBe(vars.defaultNamePrefix('feature-one-very-longer'));
  });

  test.each(['', 'Upper', 'under_score', 'a'.repeat(NAME_PREFIX_MAX + 1), '-lead', 'trail-'])(
    'rejects override %p',
    (prefix) => {
      expect(() => vars.assertNamePrefix(prefix)).toThrow(/namePrefix/);
    },
  );
});

describe('events/', () => {
  test('console.json is the console default input and runs with the stage defaults', () => {
    const input = readJson('events/console.json');
    expect(input).toEqual({ Comment: 'Insert your JSON here' });
    const run = resolveRunConfig(input, { name: 'console-run-1' }, DEV);
    expect(run.trigger.type).toBe('console');
    expect(run.dataset).toEqual({
      bucket: DEV.dataBucket,
      key: DEV.datasetKey,
      versionId: undefined,
      uri: `s3://${DEV.dataBucket}/raw/iris.csv`,
    });
    expect(run.training.hyperParameters).toEqual({ k: '1', sample_size: '1000', predictor_type: 'classifier' });
    expect(run.names.endpoint).toBe('knnp-dev--console-run-1-endpoint');
  });

  test('console-custom.json sets every console field, and every value reaches the run', () => {
    const input = readJson('events/console-custom.json');
    expect(Object.keys(input).sort()).toEqual([...CONSOLE_FIELDS].sort());
    expect(Object.keys(input.dataset).sort()).toEqual(['bucket', 'key', 'versionId']);
    expect(Object.keys(input.hyperparameters).sort()).toEqual([...HYPERPARAMETERS].sort());
    expect(Object.keys(input.split).sort()).toEqual(['seed', 'testFraction']);
    expect(Object.keys(input.training).sort()).toEqual([
      'instanceCount',
      'instanceType',
      'maxRuntimeInSeconds',
      'volumeSizeInGB',
    ]);
    expect(Object.keys(input.hosting).sort()).toEqual(['instanceCount', 'instanceType']);
    expect(Object.keys(input.qualityGate).sort()).toEqual(['metric', 'threshold']);

    const run = resolveRunConfig(input, { name: 'custom-run' }, DEV);
    expect(run.dataset).toMatchObject(input.dataset);
    expect(run.labelColumn).toBe(input.labelColumn);
    expect(run.predictorType).toBe(input.predictorType);
    expect(run.split).toEqual(input.split);
    expect(run.training).toMatchObject(input.training);
    expect(run.hosting).toMatchObject(input.hosting);
    expect(run.qualityGate).toEqual({ ...input.qualityGate, direction: 'min' });
    expect(run.training.hyperParameters).toEqual({
      ...Object.fromEntries(Object.entries(input.hyperparameters).map(([name, value]) => [name, String(value)])),
      predictor_type: 'classifier',
    });
    // The hyperparameter combination is one the k-NN algorithm accepts for iris (4 features).
    expect(() => parseHyperparameters({ ...run.training.hyperParameters, feature_dim: '4' })).not.toThrow();
  });

  test('the console schema is strict, so console-custom.json cannot carry a field the pipeline ignores', () => {
    const input = { ...readJson('events/console-custom.json'), unknownField: 1 };
    expect(() => resolveRunConfig(input, { name: 'custom-run' }, DEV)).toThrow(InputValidationError);
  });

  test('s3-object-created.json is an EventBridge "Object Created" event for raw/iris.csv in the dev bucket', () => {
    const event = readJson('events/s3-object-created.json');
    expect(Object.keys(event).sort()).toEqual([
      'account',
      'detail',
      'detail-type',
      'id',
      'region',
      'resources',
      'source',
      'time',
      'version',
    ]);
    expect(event).toMatchObject({
      version: '0',
      source: 'aws.s3',
      'detail-type': 'Object Created',
      resources: [`arn:aws:s3:::${DEV.dataBucket}`],
      detail: { version: '0', bucket: { name: DEV.dataBucket }, object: { key: 'raw/iris.csv' }, reason: 'PutObject' },
    });
    expect(Object.keys(event.detail.object).sort()).toEqual(['etag', 'key', 'sequencer', 'size', 'version-id']);
    expect(event.detail.object.size).toBe(readFileSync(join(PROJECT_DIR, 'data/iris.csv')).length);

    const run = resolveRunConfig(event, { name: '7f9c0e1a-0b6d-4f6f-9a43-3c1f6d2f8e11' }, DEV);
    expect(run.trigger).toEqual({
      type: 's3',
      executionName: '7f9c0e1a-0b6d-4f6f-9a43-3c1f6d2f8e11',
      eventId: event.id,
    });
    expect(run.dataset).toEqual({
      bucket: DEV.dataBucket,
      key: 'raw/iris.csv',
      versionId: event.detail.object['version-id'],
      etag: event.detail.object.etag,
      uri: `s3://${DEV.dataBucket}/raw/iris.csv`,
    });
    // A redelivery of the same upload (another execution) maps to the same run.
    expect(resolveRunConfig(event, { name: 'another-execution' }, DEV).runId).toBe(run.runId);
  });

  test('the S3 event matches the EventBridge rule pattern of serverless.yml', () => {
    const event = readJson('events/s3-object-created.json');
    // The S3 upload rule: Object Created under the trigger prefix.
    const rule = config.stepFunctions.stateMachines.pipeline.events.find((e) => e.eventBridge)?.eventBridge!.event as {
      source: string[];
      'detail-type': string[];
      detail: { object: { key: { prefix: string }[] } };
    };
    expect(rule.source).toContain(event.source);
    expect(rule['detail-type']).toContain(event['detail-type']);
    const prefix = rule.detail.object.key[0].prefix.replace('${param:s3TriggerPrefix}', params.s3TriggerPrefix);
    expect(event.detail.object.key.startsWith(prefix)).toBe(true);
  });

  test('schedule.json is a default EventBridge Scheduled Event and runs on the default dataset', () => {
    const event = readJson('events/schedule.json');
    expect(event).toMatchObject({ version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    expect(event.resources).toHaveLength(1);
    expect(event.resources[0]).toMatch(/^arn:aws:events:us-east-1:\d{12}:rule\//);
    const run = resolveRunConfig(event, { name: 'scheduled-2025-11-28' }, DEV);
    expect(run.trigger).toEqual({ type: 'schedule', executionName: 'scheduled-2025-11-28', eventId: event.id });
    expect(run.dataset.key).toBe(DEV.datasetKey);
  });
});
