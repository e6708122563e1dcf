// CreateTrainingJob / DescribeTrainingJob / StopTrainingJob / ListTrainingJobs.
import type { Json, LocalSageMakerContext, TrainingJobRecord } from './context';
import { epochSeconds, resourceArn } from './context';
import { SageMakerApiError, validationException } from './errors';
import { listResources } from './listing';
import { mergeTags } from './tags';
import { recordPeak, requireCapacity, trainingDemand } from './quotas';
import { finishTrainingJob, recordTransition, startTrainingJob } from './trainingRunner';
import { PATTERNS, refuseUnknownAlgorithm, validateName, Violations } from './validation';

const TRAINING_STATUSES = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const;

function validateCreateTrainingJob(request: Json): void {
  const v = new Violations();
  v.string(request.TrainingJobName, 'trainingJobName', {
    required: true,
    min: 1,
    max: 63,
    pattern: PATTERNS.jobOrEndpointName,
  });
  v.string(request.RoleArn, 'roleArn', { required: true, min: 20, max: 2048, pattern: PATTERNS.roleArn });
  v.stringMap(request.HyperParameters, 'hyperParameters', { maxEntries: 100, keyMax: 256, valueMax: 2500 });
  v.stringMap(request.Environment, 'environment', {
    maxEntries: 100,
    keyMax: 512,
    valueMax: 512,
    keyPattern: PATTERNS.environmentKey,
  });
  v.tags(request.Tags);

  // Built-in algorithms need all of these even though the current API model marks only three members required
  if (v.struct(request.AlgorithmSpecification, 'algorithmSpecification', true)) {
    const spec = request.AlgorithmSpecification;
    v.oneOf(spec.TrainingInputMode, 'algorithmSpecification.trainingInputMode', ['Pipe', 'File', 'FastFile'], true);
    v.string(spec.TrainingImage, 'algorithmSpecification.trainingImage', { max: 255 });
    v.string(spec.AlgorithmName, 'algorithmSpecification.algorithmName', { min: 1, max: 170 });
    v.list(spec.MetricDefinitions, 'algorithmSpecification.metricDefinitions', { max: 40 });
  }
  if (v.struct(request.OutputDataConfig, 'outputDataConfig', true)) {
    const output = request.OutputDataConfig;
    v.string(output.S3OutputPath, 'outputDataConfig.s3OutputPath', {
      required: true,
      max: 1024,
      pattern: PATTERNS.s3Uri,
    });
    v.oneOf(output.CompressionType, 'outputDataConfig.compressionType', ['GZIP', 'NONE']);
  }
  if (v.struct(request.ResourceConfig, 'resourceConfig', true)) {
    const resources = request.ResourceConfig;
    v.instanceType(resources.InstanceType, 'resourceConfig.instanceType', true);
    v.integer(resources.InstanceCount, 'resourceConfig.instanceCount', { required: true, min: 1 });
    v.integer(resources.VolumeSizeInGB, 'resourceConfig.volumeSizeInGB', { required: true, min: 1 });
    v.integer(resources.KeepAlivePeriodInSeconds, 'resourceConfig.keepAlivePeriodInSeconds', { min: 0, max: 21600 });
  }
  if (v.struct(request.StoppingCondition, 'stoppingCondition', true)) {
    const stopping = request.StoppingCondition;
    v.integer(stopping.MaxRuntimeInSeconds, 'stoppingCondition.maxRuntimeInSeconds', { min: 1 });
    v.integer(stopping.MaxWaitTimeInSeconds, 'stoppingCondition.maxWaitTimeInSeconds', { min: 1 });
  }
  if (v.list(request.InputDataConfig, 'inputDataConfig', { min: 1, max: 20 })) {
    request.InputDataConfig.forEach((channel, index) =>
      validateChannel(v, channel, `inputDataConfig.${index + 1}.member`),
    );
  }
  for (const flag of ['EnableNetworkIsolation', 'EnableInterContainerTrafficEncryption', 'EnableManagedSpotTraining']) {
    v.boolean(request[flag], flag.charAt(0).toLowerCase() + flag.slice(1));
  }
  v.throwIfAny();

  const spec = request.AlgorithmSpecification as Json;
  if (!spec.TrainingImage && !spec.AlgorithmName) {
    throw validationException('Either TrainingImage or AlgorithmName must be specified in AlgorithmSpecification.');
  }
  const channelNames = ((request.InputDataConfig as Json[] | undefined) ?? []).map(
    (channel) => channel.ChannelName as string,
  );
  const duplicate = channelNames.find((name, index) => channelNames.indexOf(name) !== index);
  if (duplicate !== undefined)
    throw validationException(`Channel names must be unique; '${duplicate}' is specified more than once.`);
}

function validateChannel(v: Violations, channel: unknown, path: string): void {
  if (!v.struct(channel, path, true)) return;
  v.string(channel.ChannelName, `${path}.channelName`, {
    required: true,
    min: 1,
    max: 64,
    pattern: PATTERNS.channelName,
  });
  v.string(channel.ContentType, `${path}.contentType`, { max: 256 });
  v.oneOf(channel.CompressionType, `${path}.compressionType`, ['None', 'Gzip']);
  v.oneOf(channel.RecordWrapperType, `${path}.recordWrapperType`, ['None', 'RecordIO']);
  v.oneOf(channel.InputMode, `${path}.inputMode`, ['Pipe', 'File', 'FastFile']);
  if (!v.struct(channel.DataSource, `${path}.dataSource`, true)) return;
  const s3Source = channel.DataSource.S3DataSource;
  if (!v.struct(s3Source, `${path}.dataSource.s3DataSource`, true)) return;
  v.oneOf(
    s3Source.S3DataType,
    `${path}.dataSource.s3DataSource.s3DataType`,
    ['ManifestFile', 'S3Prefix', 'AugmentedManifestFile', 'Converse'],
    true,
  );
  v.string(s3Source.S3Uri, `${path}.dataSource.s3DataSource.s3Uri`, {
    required: true,
    max: 1024,
    pattern: PATTERNS.s3Uri,
  });
  v.oneOf(s3Source.S3DataDistributionType, `${path}.dataSource.s3DataSource.s3DataDistributionType`, [
    'FullyReplicated',
    'ShardedByS3Key',
  ]);
}

export function createTrainingJob(context: LocalSageMakerContext, request: Json): Json {
  validateCreateTrainingJob(request);
  refuseUnknownAlgorithm(request.AlgorithmSpecification as Json, {
    region: context.region,
    accountId: context.accountId,
    roleArn: request.RoleArn as string,
  });
  const name = request.TrainingJobName as string;
  const arn = resourceArn(context, 'training-job', name);
  if (context.store.trainingJobs.has(name.toLowerCase())) {
    throw new SageMakerApiError(
      'ResourceInUse',
      `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${arn})`,
    );
  }
  requireCapacity(context, 'training job', trainingDemand(request));
  const now = new Date();
  const job: TrainingJobRecord = {
    name,
    arn,
    request: structuredClone(request),
    status: 'InProgress',
    secondaryStatus: 'Starting',
    transitions: [],
    creationTime: now,
    lastModifiedTime: now,
    injectedFailure: context.faults.takeTrainingJobFailure(),
    log: [],
  };
  recordTransition(job, 'Starting', 'Launching requested ML instances', now);
  context.store.trainingJobs.set(name.toLowerCase(), job);
  recordPeak(context, 'training job');
  mergeTags(context, arn, request.Tags);
  startTrainingJob(context, job);
  return { TrainingJobArn: arn };
}

export function findTrainingJob(context: LocalSageMakerContext, name: unknown): TrainingJobRecord {
  const jobName = validateName(name, 'trainingJobName', PATTERNS.jobOrEndpointName);
  const job = context.store.trainingJobs.get(jobName.toLowerCase());
  if (!job) throw validationException('Requested resource not found.');
  return job;
}

export function describeTrainingJob(context: LocalSageMakerContext, request: Json): Json {
  const job = findTrainingJob(context, request.TrainingJobName);
  const { Tags: _tags, TrainingJobName: _name, ...echoed } = job.request;
  const end = job.trainingEndTime;
  const billedSeconds = end
    ? Math.max(1, Math.ceil((end.getTime() - (job.trainingStartTime ?? job.creationTime).getTime()) / 1000))
    : undefined;
  return {
    EnableNetworkIsolation: false,
    EnableInterContainerTrafficEncryption: false,
    EnableManagedSpotTraining: false,
    ...echoed,
    StoppingCondition: { MaxRuntimeInSeconds: 86400, ...((echoed.StoppingCondition as Json | undefined) ?? {}) },
    HyperParameters: echoed.HyperParameters ?? {},
    TrainingJobName: job.name,
    TrainingJobArn: job.arn,
    TrainingJobStatus: job.status,
    SecondaryStatus: job.secondaryStatus,
    ...(job.tuningJobArn ? { TuningJobArn: job.tuningJobArn } : {}),
    ...(job.modelArtifactUri ? { ModelArtifacts: { S3ModelArtifacts: job.modelArtifactUri } } : {}),
    ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
    CreationTime: epochSeconds(job.creationTime),
    LastModifiedTime: epochSeconds(job.lastModifiedTime),
    ...(job.trainingStartTime ? { TrainingStartTime: epochSeconds(job.trainingStartTime) } : {}),
    ...(end
      ? {
          TrainingEndTime: epochSeconds(end),
          TrainingTimeInSeconds: billedSeconds,
          BillableTimeInSeconds: billedSeconds,
        }
      : {}),
    SecondaryStatusTransitions: job.transitions.map((t) => ({
      Status: t.Status,
      StartTime: epochSeconds(t.StartTime),
      ...(t.EndTime ? { EndTime: epochSeconds(t.EndTime) } : {}),
      ...(t.StatusMessage ? { StatusMessage: t.StatusMessage } : {}),
    })),
    ...(job.finalMetrics
      ? {
          FinalMetricDataList: job.finalMetrics.map((m) => ({
            MetricName: m.MetricName,
            Value: m.Value,
            Timestamp: epochSeconds(m.Timestamp),
          })),
        }
      : {}),
  };
}

export function stopTrainingJob(context: LocalSageMakerContext, request: Json): Json {
  const job = findTrainingJob(context, request.TrainingJobName);
  if (job.status !== 'InProgress') {
    throw validationException(`The request was rejected because the training job is in status ${job.status}.`);
  }
  job.status = 'Stopping';
  recordTransition(job, 'Stopping', 'Stopping the training job');
  context.scheduler.after(
    context.timing.stopDelayMs,
    () => finishTrainingJob(context, job, { status: 'Stopped', message: 'Training job stopped' }),
    () => undefined,
  );
  return {};
}

export function listTrainingJobs(context: LocalSageMakerContext, request: Json): Json {
  return listResources(request, {
    items: [...context.store.trainingJobs.values()],
    describe: (job) => ({
      name: job.name,
      creationTime: job.creationTime,
      lastModifiedTime: job.lastModifiedTime,
      status: job.status,
    }),
    summarize: (job) => ({
      TrainingJobName: job.name,
      TrainingJobArn: job.arn,
      CreationTime: epochSeconds(job.creationTime),
      ...(job.trainingEndTime ? { TrainingEndTime: epochSeconds(job.trainingEndTime) } : {}),
      LastModifiedTime: epochSeconds(job.lastModifiedTime),
      TrainingJobStatus: job.status,
      SecondaryStatus: job.secondaryStatus,
    }),
    resultKey: 'TrainingJobSummaries',
    defaultSortOrder: 'Ascending',
    sortByValues: ['Name', 'CreationTime', 'Status'],
    statusValues: TRAINING_STATUSES,
  });
}
