import { trainShardKeys } from '../../../src/domain/naming';
import { resolveRunConfig } from '../../../src/domain/runConfig';
import { sageMakerRequests } from '../../../src/domain/sageMakerRequests';
import { testStageDefaults } from '../../support/stage';

function requestsFor(security = {}) {
  const run = resolveRunConfig({ hyperparameters: { k: 3 } }, { name: 'run-7' }, testStageDefaults({ security }));
  run.training.hyperParameters.feature_dim = '4';
  return sageMakerRequests(run);
}

test('the training job follows the built-in k-NN contract: Pipe mode, label-first CSV train/test channels, string hyperparameters', () => {
  const { trainingJob } = requestsFor();
  expect(trainingJob).toMatchObject({
    TrainingJobName: 'knnp-dev--run-7',
    AlgorithmSpecification: {
      TrainingImage: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1',
      TrainingInputMode: 'Pipe',
    },
    HyperParameters: { k: '3', sample_size: '1000', predictor_type: 'classifier', feature_dim: '4' },
    OutputDataConfig: { S3OutputPath: 's3://knn-pipeline-dev-data/runs/run-7/output/' },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    EnableNetworkIsolation: true,
    Tags: [{ Key: 'knn-pipeline:run-id', Value: 'run-7' }],
  });
  expect(trainingJob.InputDataConfig).toEqual([
    {
      ChannelName: 'train',
      ContentType: 'text/csv',
      CompressionType: 'None',
      DataSource: {
        S3DataSource: {
          S3DataType: 'S3Prefix',
          S3Uri: 's3://knn-pipeline-dev-data/runs/run-7/input/train/',
          S3DataDistributionType: 'FullyReplicated',
        },
      },
    },
    {
      ChannelName: 'test',
      ContentType: 'text/csv',
      CompressionType: 'None',
      DataSource: {
        S3DataSource: {
          S3DataType: 'S3Prefix',
          S3Uri: 's3://knn-pipeline-dev-data/runs/run-7/input/test/',
          S3DataDistributionType: 'FullyReplicated',
        },
      },
    },
  ]);
  expect(Object.values(trainingJob.HyperParameters as object).every((value) => typeof value === 'string')).toBe(true);
  expect(trainingJob).not.toHaveProperty('VpcConfig');
});

test('model, endpoint config and endpoint use the run’s names; the model reads the training artifact', () => {
  const { model, endpointConfig, endpoint, servingEndpointConfig } = requestsFor();
  expect(model).toMatchObject({
    ModelName: 'knnp-dev--run-7-model',
    PrimaryContainer: {
      ModelDataUrl: 's3://knn-pipeline-dev-data/runs/run-7/output/knnp-dev--run-7/output/model.tar.gz',
    },
    EnableNetworkIsolation: true,
  });
  expect(endpointConfig).toMatchObject({
    EndpointConfigName: 'knnp-dev--run-7-config',
    ProductionVariants: [
      {
        VariantName: 'AllTraffic',
        ModelName: 'knnp-dev--run-7-model',
        InitialInstanceCount: 1,
        InstanceType: 'ml.m5.large',
      },
    ],
  });
  expect(endpointConfig).not.toHaveProperty('KmsKeyId');
  expect(endpoint).toMatchObject({
    EndpointName: 'knnp-dev--run-7-endpoint',
    EndpointConfigName: 'knnp-dev--run-7-config',
  });
  expect(servingEndpointConfig).toMatchObject({ EndpointConfigName: 'knnp-dev--run-7-serve' });
});

test('optional VPC and KMS settings appear only when configured', () => {
  const requests = requestsFor({
    vpc: { subnets: ['subnet-0a1b'], securityGroupIds: ['sg-0c2d'] },
    trainingVolumeKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/volume',
    trainingOutputKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/output',
    endpointKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/endpoint',
  });
  expect(requests.trainingJob).toMatchObject({
    VpcConfig: { Subnets: ['subnet-0a1b'], SecurityGroupIds: ['sg-0c2d'] },
    ResourceConfig: { VolumeKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/volume' },
    OutputDataConfig: { KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/output' },
  });
  expect(requests.model).toMatchObject({ VpcConfig: { Subnets: ['subnet-0a1b'], SecurityGroupIds: ['sg-0c2d'] } });
  expect(requests.endpointConfig).toMatchObject({ KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/endpoint' });
  expect(requests.servingEndpointConfig).toMatchObject({ KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/endpoint' });
});

test('with several training instances the train channel is sharded by S3 key; the test channel stays whole', () => {
  const run = resolveRunConfig(
    { hyperparameters: { k: 3 }, training: { instanceCount: 3 } },
    { name: 'run-8' },
    testStageDefaults(),
  );
  const { trainingJob } = sageMakerRequests(run);
  const distribution = (trainingJob.InputDataConfig as { DataSource: { S3DataSource: Record<string, string> } }[]).map(
    (channel) => channel.DataSource.S3DataSource.S3DataDistributionType,
  );
  expect(distribution).toEqual(['ShardedByS3Key', 'FullyReplicated']);
  expect(trainingJob.ResourceConfig).toMatchObject({ InstanceCount: 3 });
});

test('the train shards are named by position under the train channel prefix; one shard keeps train.csv', () => {
  const layout = { trainChannel: 'runs/r/input/train/train.csv', trainChannelPrefix: 'runs/r/input/train/' };
  expect(trainShardKeys(layout, 1)).toEqual(['runs/r/input/train/train.csv']);
  expect(trainShardKeys(layout, 2)).toEqual([
    'runs/r/input/train/train-1-of-2.csv',
    'runs/r/input/train/train-2-of-2.csv',
  ]);
  expect(trainShardKeys(layout, 10)[0]).toBe('runs/r/input/train/train-01-of-10.csv');
});

function requestsIn(evaluation: Record<string, unknown>, security = {}) {
  const run = resolveRunConfig({ evaluation }, { name: 'run-7' }, testStageDefaults({ security }));
  run.training.hyperParameters.feature_dim = '4';
  return sageMakerRequests(run);
}

test('each evaluation mode carries the requests of its own branch only', () => {
  expect(Object.keys(requestsIn({ mode: 'endpoint' })).sort()).toEqual([
    'endpoint',
    'endpointConfig',
    'model',
    'servingEndpointConfig',
    'trainingJob',
  ]);
  expect(Object.keys(requestsIn({ mode: 'serverless' })).sort()).toEqual([
    'endpoint',
    'model',
    'serverlessEndpointConfig',
    'servingEndpointConfig',
    'trainingJob',
  ]);
  expect(Object.keys(requestsIn({ mode: 'batchTransform' })).sort()).toEqual([
    'model',
    'servingEndpointConfig',
    'trainingJob',
    'transformJob',
  ]);
});

test('serverless: the run’s endpoint config with a ServerlessConfig variant and no instance fields; a model without network isolation', () => {
  const requests = requestsIn(
    { mode: 'serverless', serverless: { memorySizeInMB: 3072, maxConcurrency: 8 } },
    { endpointKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/endpoint' },
  );
  expect(requests.serverlessEndpointConfig).toEqual({
    EndpointConfigName: 'knnp-dev--run-7-config',
    ProductionVariants: [
      {
        VariantName: 'AllTraffic',
        ModelName: 'knnp-dev--run-7-model',
        ServerlessConfig: { MemorySizeInMB: 3072, MaxConcurrency: 8 },
      },
    ],
    KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/endpoint',
    Tags: [{ Key: 'knn-pipeline:run-id', Value: 'run-7' }],
  });
  expect(requests.endpoint).toMatchObject({
    EndpointName: 'knnp-dev--run-7-endpoint',
    EndpointConfigName: 'knnp-dev--run-7-config',
  });
  // Serverless endpoints support neither network isolation nor a VPC.
  expect(requests.model).toMatchObject({ EnableNetworkIsolation: false });
  expect(requests.model).not.toHaveProperty('VpcConfig');
  // The serving config stays instance-based (serverless and serve are refused together anyway).
  expect(requests.servingEndpointConfig).toMatchObject({
    ProductionVariants: [{ InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
  });
});

test('batchTransform: the test channel as line-split CSV without its label column, JSON Lines out, no endpoint', () => {
  const requests = requestsIn({
    mode: 'batchTransform',
    transform: { instanceType: 'ml.c5.xlarge', instanceCount: 2 },
  });
  expect(requests.transformJob).toEqual({
    TransformJobName: 'knnp-dev--run-7-batch',
    ModelName: 'knnp-dev--run-7-model',
    BatchStrategy: 'MultiRecord',
    MaxPayloadInMB: 6,
    TransformInput: {
      DataSource: {
        S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://knn-pipeline-dev-data/runs/run-7/input/test/' },
      },
      ContentType: 'text/csv',
      CompressionType: 'None',
      SplitType: 'Line',
    },
    TransformOutput: {
      S3OutputPath: 's3://knn-pipeline-dev-data/runs/run-7/output/transform/',
      Accept: 'application/jsonlines',
      AssembleWith: 'Line',
    },
    TransformResources: { InstanceType: 'ml.c5.xlarge', InstanceCount: 2 },
    DataProcessing: { InputFilter: '$[1:]', JoinSource: 'None' },
    Tags: [{ Key: 'knn-pipeline:run-id', Value: 'run-7' }],
  });
  expect(requests.model).toMatchObject({ EnableNetworkIsolation: true });
});

test('batchTransform in a VPC with KMS keys: the model keeps the VPC, the instance volume uses the endpoint key', () => {
  const requests = requestsIn(
    { mode: 'batchTransform' },
    {
      vpc: { subnets: ['subnet-0a1b'], securityGroupIds: ['sg-0c2d'] },
      trainingOutputKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/output',
      endpointKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/endpoint',
    },
  );
  expect(requests.model).toMatchObject({ EnableNetworkIsolation: true, VpcConfig: { Subnets: ['subnet-0a1b'] } });
  expect(requests.transformJob).toMatchObject({
    TransformResources: { VolumeKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/endpoint' },
  });
  // The output stays under the bucket's own encryption: Evaluate reads it with the data key only.
  expect(requests.transformJob!.TransformOutput).not.toHaveProperty('KmsKeyId');
});
