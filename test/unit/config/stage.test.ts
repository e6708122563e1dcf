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
