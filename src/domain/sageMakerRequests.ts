import { s3Uri } from './naming';
import type { EnabledTuning } from './tuning';
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

/** The tuned hyperparameters in the order the request lists their ranges. */
const TUNED_ORDER = ['k', 'sample_size'] as const;

/** ParameterRanges of the request: lists as CategoricalParameterRanges, ranges as IntegerParameterRanges. */
export function parameterRanges(ranges: EnabledTuning['ranges']): Record<string, unknown[]> {
  const categorical: unknown[] = [];
  const integer: unknown[] = [];
  for (const name of TUNED_ORDER) {
    const range = ranges[name];
    if (!range) continue;
    if ('values' in range) categorical.push({ Name: name, Values: range.values.map(String) });
    else
      integer.push({
        Name: name,
        MinValue: String(range.min),
        MaxValue: String(range.max),
        ScalingType: range.scaling ?? 'Auto',
      });
  }
  return {
    ...(integer.length > 0 ? { IntegerParameterRanges: integer } : {}),
    ...(categorical.length > 0 ? { CategoricalParameterRanges: categorical } : {}),
  };
}

/**
 * CreateHyperParameterTuningJob from the run's CreateTrainingJob request for the tuning channels: the same image,
 * role, resources and stopping condition; the tuned hyperparameters leave the static ones.
 */
export function tuningJobRequest(
  tuning: EnabledTuning,
  names: { tuningJob: string },
  trainingRequest: Record<string, unknown>,
  seed: number,
): Record<string, unknown> {
  const {
    TrainingJobName: _name,
    HyperParameters: hyperParameters,
    Tags: tags,
    ...definition
  } = trainingRequest as {
    TrainingJobName: string;
    HyperParameters: Record<string, string>;
    Tags: unknown[];
  } & Record<string, unknown>;
  const staticHyperParameters = Object.fromEntries(
    Object.entries(hyperParameters).filter(([name]) => !(name in tuning.ranges)),
  );
  return {
    HyperParameterTuningJobName: names.tuningJob,
    HyperParameterTuningJobConfig: {
      Strategy: tuning.strategy,
      HyperParameterTuningJobObjective: { Type: tuning.objective.type, MetricName: tuning.objective.metricName },
      ResourceLimits: {
        ...(tuning.maxJobs !== undefined ? { MaxNumberOfTrainingJobs: tuning.maxJobs } : {}),
        MaxParallelTrainingJobs: tuning.maxParallelJobs,
        MaxRuntimeInSeconds: tuning.maxRuntimeInSeconds,
      },
      ParameterRanges: parameterRanges(tuning.ranges),
      TrainingJobEarlyStoppingType: 'Off',
      ...(tuning.strategy === 'Grid' ? {} : { RandomSeed: seed }),
    },
    TrainingJobDefinition: { ...definition, StaticHyperParameters: staticHyperParameters },
    Tags: tags,
  };
}

/** Batch transform: the largest request body sent to the container (SageMaker's default, and InvokeEndpoint's 6 MB). */
export const TRANSFORM_MAX_PAYLOAD_MB = 6;
/** The label is the test channel's first column; the model must see only the features. */
export const TRANSFORM_INPUT_FILTER = '$[1:]';

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

/**
 * Evaluation mode serverless: the run's endpoint config with a ServerlessConfig variant and no instance fields
 * (SageMaker rejects InstanceType/InitialInstanceCount next to ServerlessConfig).
 */
function serverlessEndpointConfigRequest(
  run: RunConfig,
  serverless: { memorySizeInMB: number; maxConcurrency: number },
): Record<string, unknown> {
  return {
    EndpointConfigName: run.names.endpointConfig,
    ProductionVariants: [
      {
        VariantName: 'AllTraffic',
        ModelName: run.names.model,
        ServerlessConfig: { MemorySizeInMB: serverless.memorySizeInMB, MaxConcurrency: serverless.maxConcurrency },
      },
    ],
    ...(run.security.endpointKmsKeyId ? { KmsKeyId: run.security.endpointKmsKeyId } : {}),
    Tags: [{ Key: RUN_TAG_KEY, Value: run.runId }],
  };
}

/**
 * Evaluation mode batchTransform: the run's model over the test channel. The channel is label-first CSV, one row per
 * line: SplitType Line with MultiRecord batches of at most 6 MB, the label column filtered out ($[1:]) so the model
 * sees only the features, and the k-NN answers as JSON Lines assembled one line per row (k-NN has no CSV output, so
 * the label cannot be joined back: Evaluate reads the output in lockstep with the channel). No output KMS key: the
 * output is read by Evaluate, which may only use the data bucket's key; the instance volume uses the endpoint key.
 */
export function transformJobRequest(
  run: RunConfig,
  transform: { instanceType: string; instanceCount: number },
): Record<string, unknown> {
  return {
    TransformJobName: run.names.transformJob,
    ModelName: run.names.model,
    BatchStrategy: 'MultiRecord',
    MaxPayloadInMB: TRANSFORM_MAX_PAYLOAD_MB,
    TransformInput: {
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: run.uris.testChannel } },
      ContentType: 'text/csv',
      CompressionType: 'None',
      SplitType: 'Line',
    },
    TransformOutput: {
      S3OutputPath: s3Uri(run.bucket, run.keys.transformOutput),
      Accept: 'application/jsonlines',
      AssembleWith: 'Line',
    },
    TransformResources: {
      InstanceType: transform.instanceType,
      InstanceCount: transform.instanceCount,
      ...(run.security.endpointKmsKeyId ? { VolumeKmsKeyId: run.security.endpointKmsKeyId } : {}),
    },
    DataProcessing: { InputFilter: TRANSFORM_INPUT_FILTER, JoinSource: 'None' },
    Tags: [{ Key: RUN_TAG_KEY, Value: run.runId }],
  };
}

/** The requests of the run's evaluation mode: an endpoint (instance or serverless) or a transform job. */
function evaluationRequests(run: RunConfig): Partial<SageMakerRequests> {
  const endpoint = {
    EndpointName: run.names.endpoint,
    EndpointConfigName: run.names.endpointConfig,
    Tags: [{ Key: RUN_TAG_KEY, Value: run.runId }],
  };
  const evaluation = run.evaluation;
  switch (evaluation.mode) {
    case 'batchTransform':
      return { transformJob: transformJobRequest(run, evaluation.transform) };
    case 'serverless':
      return { serverlessEndpointConfig: serverlessEndpointConfigRequest(run, evaluation.serverless), endpoint };
    default:
      return { endpointConfig: endpointConfigRequest(run, run.names.endpointConfig), endpoint };
  }
}

/** A CreateTrainingJob request for rows of another width (a feature transform's output): feature_dim changed. */
export function withFeatureDimension(request: Record<string, unknown>, featureDim: number): Record<string, unknown> {
  const hyperParameters = request.HyperParameters as Record<string, string>;
  return { ...request, HyperParameters: { ...hyperParameters, feature_dim: String(featureDim) } };
}

/** A CreateHyperParameterTuningJob request for rows of another width (the tuning transform's output), if any. */
export function tuningWithFeatureDimension(
  request: Record<string, unknown>,
  featureDim: number | undefined,
): Record<string, unknown> {
  if (featureDim === undefined) return request;
  const definition = request.TrainingJobDefinition as { StaticHyperParameters: Record<string, string> };
  return {
    ...request,
    TrainingJobDefinition: {
      ...definition,
      StaticHyperParameters: { ...definition.StaticHyperParameters, feature_dim: String(featureDim) },
    },
  };
}

/** Every request of the run; needs the final hyperparameters (feature_dim comes from the data). */
export function sageMakerRequests(run: RunConfig): SageMakerRequests {
  const job = run.names.trainingJob;
  // Serverless endpoints support neither network isolation nor a VPC (a VPC stage cannot choose serverless).
  const isolated = run.evaluation.mode !== 'serverless';
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
      EnableNetworkIsolation: isolated,
      ...(isolated ? vpcConfig(run.security) : {}),
      Tags: [{ Key: RUN_TAG_KEY, Value: run.runId }],
    },
    ...evaluationRequests(run),
    servingEndpointConfig: endpointConfigRequest(run, run.serve.endpointConfigName),
    ...(run.tuning.enabled
      ? {
          // The tuning jobs train on the training rows minus the validation split and are scored on that split.
          tuningJob: tuningJobRequest(
            run.tuning,
            run.names,
            trainingJobRequest(run, {
              trainingJobName: run.names.tuningJob,
              trainUri: run.uris.tuningTrainChannel,
              testUri: run.uris.tuningValidationChannel,
              outputUri: run.uris.tuningOutput,
            }),
            run.split.seed,
          ),
        }
      : {}),
  };
}
