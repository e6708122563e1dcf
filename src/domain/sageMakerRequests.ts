import type { RunConfig } from './runConfig';
import type { SageMakerRequests, SecuritySettings } from './sageMakerTypes';

export type { SageMakerRequests, SecuritySettings };

export const RUN_TAG_KEY = 'knn-pipeline:run-id';

export interface TrainingChannels {
  trainingJobName: string;
  trainUri: string;
  testUri: string;
  outputUri: string;
}

/** Sharded: each training host reads its own share of the channel's objects (one shard object per host). */
function channel(name: 'train' | 'test', uri: string, sharded = false) {
  return {
    ChannelName: name,
    ContentType: 'text/csv',
    CompressionType: 'None',
    DataSource: {
      S3DataSource: {
        S3DataType: 'S3Prefix',
        S3Uri: uri,
        S3DataDistributionType: sharded ? 'ShardedByS3Key' : 'FullyReplicated',
      },
    },
  };
}

function vpcConfig(security: SecuritySettings) {
  return security.vpc
    ? { VpcConfig: { Subnets: security.vpc.subnets, SecurityGroupIds: security.vpc.securityGroupIds } }
    : {};
}

/** CreateTrainingJob for built-in k-NN: Pipe mode, label-first CSV `train` and `test` channels, network isolation. */
export function trainingJobRequest(run: RunConfig, channels: TrainingChannels): Record<string, unknown> {
  const { training, security } = run;
  return {
    TrainingJobName: channels.trainingJobName,
    RoleArn: training.roleArn,
    AlgorithmSpecification: { TrainingImage: training.image, TrainingInputMode: 'Pipe' },
    HyperParameters: training.hyperParameters,
    // The test channel stays whole on every host: it only scores the model.
    InputDataConfig: [
      channel('train', channels.trainUri, training.instanceCount > 1),
      channel('test', channels.testUri),
    ],
    OutputDataConfig: {
      S3OutputPath: channels.outputUri,
      ...(security.trainingOutputKmsKeyId ? { KmsKeyId: security.trainingOutputKmsKeyId } : {}),
    },
    ResourceConfig: {
      InstanceType: training.instanceType,
      InstanceCount: training.instanceCount,
      VolumeSizeInGB: training.volumeSizeInGB,
      ...(security.trainingVolumeKmsKeyId ? { VolumeKmsKeyId: security.trainingVolumeKmsKeyId } : {}),
    },
    StoppingCondition: { MaxRuntimeInSeconds: training.maxRuntimeInSeconds },
    EnableNetworkIsolation: true,
    ...vpcConfig(security),
    Tags: [{ Key: RUN_TAG_KEY, Value: run.runId }],
  };
}

function endpointConfigRequest(run: RunConfig, name: string): Record<string, unknown> {
  return {
    EndpointConfigName: name,
    ProductionVariants: [
      {
        VariantName: 'AllTraffic',
        ModelName: run.names.model,
        InitialInstanceCount: run.hosting.instanceCount,
        InstanceType: run.hosting.instanceType,
        InitialVariantWeight: 1,
      },
    ],
    ...(run.security.endpointKmsKeyId ? { KmsKeyId: run.security.endpointKmsKeyId } : {}),
    Tags: [{ Key: RUN_TAG_KEY, Value: run.runId }],
  };
}

/** Every request of the run; needs the final hyperparameters (feature_dim comes from the data). */
export function sageMakerRequests(run: RunConfig): SageMakerRequests {
  const job = run.names.trainingJob;
  return {
    trainingJob: trainingJobRequest(run, {
      trainingJobName: job,
      trainUri: run.uris.trainChannel,
      testUri: run.uris.testChannel,
      outputUri: run.uris.trainingOutput,
    }),
    model: {
      ModelName: run.names.model,
      ExecutionRoleArn: run.training.roleArn,
      // Where SageMaker puts the artifact: <S3OutputPath>/<TrainingJobName>/output/model.tar.gz.
      PrimaryContainer: {
        Image: run.training.image,
        ModelDataUrl: `${run.uris.trainingOutput}${job}/output/model.tar.gz`,
      },
      EnableNetworkIsolation: true,
      ...vpcConfig(run.security),
      Tags: [{ Key: RUN_TAG_KEY, Value: run.runId }],
    },
    endpointConfig: endpointConfigRequest(run, run.names.endpointConfig),
    endpoint: {
      EndpointName: run.names.endpoint,
      EndpointConfigName: run.names.endpointConfig,
      Tags: [{ Key: RUN_TAG_KEY, Value: run.runId }],
    },
    servingEndpointConfig: endpointConfigRequest(run, run.serve.endpointConfigName),
  };
}
