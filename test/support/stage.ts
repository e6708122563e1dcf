import { InputValidationError, type StageDefaults } from '../../src/domain/runConfig';
import { DEFAULT_CAPACITY } from '../../src/domain/timeBudget';
import type { EnabledTuning } from '../../src/domain/tuning';

export function testStageDefaults(overrides: Partial<StageDefaults> = {}): StageDefaults {
  return {
    dataBucket: 'knn-pipeline-dev-data',
    rawPrefix: 'raw/',
    runsPrefix: 'runs/',
    datasetKey: 'raw/iris.csv',
    namePrefix: 'knnp-dev',
    labelColumn: 'Species',
    predictorType: 'classifier',
    hyperparameters: { k: '1', sample_size: '1000' },
    split: { testFraction: 0.25, seed: 0 },
    training: {
      image: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1',
      roleArn: 'arn:aws:iam::123456789012:role/knn-pipeline-dev-sagemaker',
      instanceType: 'ml.m5.large',
      instanceCount: 1,
      volumeSizeInGB: 5,
      maxRuntimeInSeconds: 3600,
    },
    hosting: { instanceType: 'ml.m5.large', instanceCount: 1, maxWaitSeconds: 3600, pollSeconds: 30 },
    evaluation: { mode: 'endpoint', serverless: { memorySizeInMB: 2048, maxConcurrency: 4 }, transform: {} },
    qualityGate: { classifier: { metric: 'accuracy', threshold: 0.9 }, regressor: { metric: 'r2', threshold: 0 } },
    maxDatasetBytes: 2 * 1024 * 1024 * 1024,
    crossValidationFolds: 0,
    serve: { enabled: false, keep: 2 },
    security: {},
    notificationBus: 'default',
    features: { scaling: 'none', categorical: [], pca: null, drop: [], maxCategoricalLevels: 100 },
    capacity: DEFAULT_CAPACITY,
    ...overrides,
  };
}

export function s3Event(key: string, extra: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2026-11-28T06:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:s3:::knn-pipeline-dev-data'],
    detail: {
      version: '0',
      bucket: { name: 'knn-pipeline-dev-data' },
      object: { key, size: 4551, etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '617f08299329d189', ...extra },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '123456789012',
      'source-ip-address': '1.2.3.4',
      reason: 'PutObject',
    },
  };
}

/** The problems an InputValidationError lists (fails when the call does not throw one). */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected an InputValidationError');
}

/** Tuning on, as Prepare resolves `--tune Grid:k=1,3` with two parallel jobs (handler fixtures). */
export function gridTuning(): EnabledTuning {
  return {
    enabled: true,
    strategy: 'Grid',
    ranges: { k: { values: [1, 3] } },
    jobCount: 2,
    maxParallelJobs: 2,
    maxRuntimeInSeconds: 3600,
    validationFraction: 0.2,
    objective: { type: 'Maximize', metricName: 'test:accuracy' },
  };
}
