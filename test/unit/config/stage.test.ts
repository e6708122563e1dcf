import { ConfigurationError, stageDefaultsFromEnv } from '../../../src/config/stage';

const base = {
  DATA_BUCKET: 'b',
  NAME_PREFIX: 'knnp-dev',
  KNN_IMAGE_URI: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1',
  SAGEMAKER_ROLE_ARN: 'arn:aws:iam::123456789012:role/sm',
};

test('defaults when only the required variables are set', () => {
  const defaults = stageDefaultsFromEnv(base);
  expect(defaults).toMatchObject({
    labelColumn: 'Species',
    hyperparameters: { k: '1', sample_size: '1000' },
    split: { testFraction: 0.25, seed: 0 },
    crossValidationFolds: 0,
    serve: { enabled: false, keep: 2 },
    security: {},
  });
});

test('a missing or malformed variable is named', () => {
  expect(() => stageDefaultsFromEnv({ ...base, DATA_BUCKET: undefined })).toThrow(
    'Environment variable DATA_BUCKET is not set',
  );
  expect(() => stageDefaultsFromEnv({ ...base, KNN_K: 'three' })).toThrow(
    'Environment variable KNN_K has an invalid value "three"',
  );
  expect(() => stageDefaultsFromEnv({ ...base, SERVE: 'yes' })).toThrow(ConfigurationError);
  expect(() => stageDefaultsFromEnv({ ...base, TRAINING_MAX_RUNTIME_SECONDS: '99999' })).toThrow(
    /TRAINING_MAX_RUNTIME_SECONDS/,
  );
});

test('VPC subnets and security groups come together; KMS keys are optional', () => {
  expect(
    stageDefaultsFromEnv({
      ...base,
      VPC_SUBNET_IDS: 'subnet-0a, subnet-0b',
      VPC_SECURITY_GROUP_IDS: 'sg-01',
      ENDPOINT_KMS_KEY_ID: 'alias/k',
    }).security,
  ).toEqual({ vpc: { subnets: ['subnet-0a', 'subnet-0b'], securityGroupIds: ['sg-01'] }, endpointKmsKeyId: 'alias/k' });
  expect(() => stageDefaultsFromEnv({ ...base, VPC_SUBNET_IDS: 'subnet-0a' })).toThrow(/must be set together/);
  expect(() => stageDefaultsFromEnv({ ...base, VPC_SUBNET_IDS: 'vpc-1', VPC_SECURITY_GROUP_IDS: 'sg-1' })).toThrow(
    /subnet-/,
  );
});

test('the index type and metric are sent only when the stage sets them, and must be ones k-NN knows', () => {
  expect(stageDefaultsFromEnv({ ...base, KNN_INDEX_TYPE: '', KNN_INDEX_METRIC: '' }).hyperparameters).toEqual({
    k: '1',
    sample_size: '1000',
  });
  expect(
    stageDefaultsFromEnv({ ...base, KNN_INDEX_TYPE: 'faiss.IVFFlat', KNN_INDEX_METRIC: 'COSINE' }).hyperparameters,
  ).toEqual({ k: '1', sample_size: '1000', index_type: 'faiss.IVFFlat', index_metric: 'COSINE' });
  expect(() => stageDefaultsFromEnv({ ...base, KNN_INDEX_METRIC: 'manhattan' })).toThrow(
    'Environment variable KNN_INDEX_METRIC must be one of L2, INNER_PRODUCT, COSINE, got "manhattan"',
  );
});

test('the evaluation mode and its settings: endpoint by default, a transform on the hosting instances unless set', () => {
  expect(stageDefaultsFromEnv(base).evaluation).toEqual({
    mode: 'endpoint',
    serverless: { memorySizeInMB: 2048, maxConcurrency: 4 },
    transform: {},
  });
  expect(
    stageDefaultsFromEnv({
      ...base,
      EVALUATION_MODE: 'batchTransform',
      SERVERLESS_MEMORY_MB: '6144',
      SERVERLESS_MAX_CONCURRENCY: '200',
      TRANSFORM_INSTANCE_TYPE: 'ml.c5.xlarge',
      TRANSFORM_INSTANCE_COUNT: '2',
    }).evaluation,
  ).toEqual({
    mode: 'batchTransform',
    serverless: { memorySizeInMB: 6144, maxConcurrency: 200 },
    transform: { instanceType: 'ml.c5.xlarge', instanceCount: 2 },
  });
  // Empty params (serverless.yml's defaults for the transform) mean "not set".
  expect(
    stageDefaultsFromEnv({ ...base, TRANSFORM_INSTANCE_TYPE: '', TRANSFORM_INSTANCE_COUNT: '' }).evaluation.transform,
  ).toEqual({});
});

test('invalid evaluation settings, and serverless with serve or a VPC, are refused naming the variables', () => {
  expect(() => stageDefaultsFromEnv({ ...base, EVALUATION_MODE: 'async' })).toThrow(
    'Environment variable EVALUATION_MODE must be one of endpoint, batchTransform, serverless, got "async"',
  );
  expect(() => stageDefaultsFromEnv({ ...base, SERVERLESS_MEMORY_MB: '1500' })).toThrow(/SERVERLESS_MEMORY_MB/);
  expect(() => stageDefaultsFromEnv({ ...base, SERVERLESS_MAX_CONCURRENCY: '201' })).toThrow(
    /SERVERLESS_MAX_CONCURRENCY/,
  );
  expect(() => stageDefaultsFromEnv({ ...base, TRANSFORM_INSTANCE_COUNT: '0' })).toThrow(/TRANSFORM_INSTANCE_COUNT/);
  expect(() => stageDefaultsFromEnv({ ...base, EVALUATION_MODE: 'serverless', SERVE: 'true' })).toThrow(
    /^EVALUATION_MODE=serverless with SERVE=true: a serverless endpoint cannot be combined with serving mode/,
  );
  expect(() =>
    stageDefaultsFromEnv({
      ...base,
      EVALUATION_MODE: 'serverless',
      VPC_SUBNET_IDS: 'subnet-0a',
      VPC_SECURITY_GROUP_IDS: 'sg-01',
    }),
  ).toThrow(/^EVALUATION_MODE=serverless: a serverless endpoint cannot run in a VPC/);
});

test('TUNING: off when empty; the --tune syntax or the execution input as JSON; a bad value is named', () => {
  expect(stageDefaultsFromEnv(base).tuning).toBeUndefined();
  expect(stageDefaultsFromEnv({ ...base, TUNING: 'Grid:k=1..3' }).tuning).toEqual({
    strategy: 'Grid',
    ranges: { k: { values: [1, 2, 3] } },
  });
  expect(
    stageDefaultsFromEnv({ ...base, TUNING: '{"strategy":"Random","ranges":{"k":{"min":1,"max":9}},"maxJobs":4}' })
      .tuning,
  ).toEqual({ strategy: 'Random', ranges: { k: { min: 1, max: 9 } }, maxJobs: 4 });
  expect(() => stageDefaultsFromEnv({ ...base, TUNING: 'Grid:k=0/1' })).toThrow(
    /Environment variable TUNING: tuning\.ranges\.k/,
  );
  expect(() => stageDefaultsFromEnv({ ...base, TUNING: 'Sometimes' })).toThrow(
    /Environment variable TUNING: --tune "Sometimes": unknown strategy/,
  );
});
