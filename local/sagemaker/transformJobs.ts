// CreateTransformJob / DescribeTransformJob / StopTransformJob / ListTransformJobs.
import { recordPeak, requireCapacity, transformDemand } from './quotas';
import type { Json, LocalSageMakerContext, TransformJobRecord } from './context';
import { epochSeconds, resourceArn } from './context';
import { SageMakerApiError, validationException } from './errors';
import { listResources } from './listing';
import { findModel } from './models';
import { mergeTags } from './tags';
import { finishTransformJob, startTransformJob } from './transformRunner';
import { PATTERNS, validateName, Violations } from './validation';

const TRANSFORM_STATUSES = ['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'] as const;
/** "The value of MaxPayloadInMB cannot be greater than 100 MB" (API_CreateTransformJob). */
const MAX_PAYLOAD_IN_MB = 100;
const KMS_KEY = '^[a-zA-Z0-9:/_-]*$';

function validateCreateTransformJob(request: Json): void {
  const v = new Violations();
  v.string(request.TransformJobName, 'transformJobName', {
    required: true,
    min: 1,
    max: 63,
    pattern: PATTERNS.jobOrEndpointName,
  });
  v.string(request.ModelName, 'modelName', { required: true, max: 63, pattern: PATTERNS.modelName });
  v.integer(request.MaxConcurrentTransforms, 'maxConcurrentTransforms', { min: 0 });
  v.integer(request.MaxPayloadInMB, 'maxPayloadInMB', { min: 0 });
  v.oneOf(request.BatchStrategy, 'batchStrategy', ['MultiRecord', 'SingleRecord']);
  v.stringMap(request.Environment, 'environment', {
    maxEntries: 16,
    keyMax: 1024,
    valueMax: 10240,
    keyPattern: '^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$',
  });
  if (v.struct(request.ModelClientConfig, 'modelClientConfig')) {
    const client = request.ModelClientConfig;
    v.integer(client.InvocationsTimeoutInSeconds, 'modelClientConfig.invocationsTimeoutInSeconds', {
      min: 1,
      max: 3600,
    });
    v.integer(client.InvocationsMaxRetries, 'modelClientConfig.invocationsMaxRetries', { min: 0, max: 3 });
  }
  if (v.struct(request.TransformInput, 'transformInput', true)) {
    const input = request.TransformInput;
    if (v.struct(input.DataSource, 'transformInput.dataSource', true)) {
      const source = input.DataSource.S3DataSource;
      if (v.struct(source, 'transformInput.dataSource.s3DataSource', true)) {
        v.oneOf(
          source.S3DataType,
          'transformInput.dataSource.s3DataSource.s3DataType',
          ['ManifestFile', 'S3Prefix', 'AugmentedManifestFile', 'Converse'],
          true,
        );
        v.string(source.S3Uri, 'transformInput.dataSource.s3DataSource.s3Uri', {
          required: true,
          max: 1024,
          pattern: PATTERNS.s3Uri,
        });
      }
    }
    v.string(input.ContentType, 'transformInput.contentType', { max: 256 });
    v.oneOf(input.CompressionType, 'transformInput.compressionType', ['None', 'Gzip']);
    v.oneOf(input.SplitType, 'transformInput.splitType', ['None', 'Line', 'RecordIO', 'TFRecord']);
  }
  if (v.struct(request.TransformOutput, 'transformOutput', true)) {
    const output = request.TransformOutput;
    v.string(output.S3OutputPath, 'transformOutput.s3OutputPath', {
      required: true,
      max: 1024,
      pattern: PATTERNS.s3Uri,
    });
    v.string(output.Accept, 'transformOutput.accept', { max: 256 });
    v.oneOf(output.AssembleWith, 'transformOutput.assembleWith', ['None', 'Line']);
    v.string(output.KmsKeyId, 'transformOutput.kmsKeyId', { max: 2048, pattern: KMS_KEY });
  }
  if (v.struct(request.TransformResources, 'transformResources', true)) {
    const resources = request.TransformResources;
    v.instanceType(resources.InstanceType, 'transformResources.instanceType', true);
    v.integer(resources.InstanceCount, 'transformResources.instanceCount', { required: true, min: 1 });
    v.string(resources.VolumeKmsKeyId, 'transformResources.volumeKmsKeyId', { max: 2048, pattern: KMS_KEY });
  }
  if (v.struct(request.DataProcessing, 'dataProcessing')) {
    const processing = request.DataProcessing;
    v.string(processing.InputFilter, 'dataProcessing.inputFilter', { max: 63 });
    v.string(processing.OutputFilter, 'dataProcessing.outputFilter', { max: 63 });
    v.oneOf(processing.JoinSource, 'dataProcessing.joinSource', ['Input', 'None']);
  }
  if (v.struct(request.DataCaptureConfig, 'dataCaptureConfig')) {
    v.string(request.DataCaptureConfig.DestinationS3Uri, 'dataCaptureConfig.destinationS3Uri', {
      required: true,
      max: 1024,
      pattern: PATTERNS.s3Uri,
    });
  }
  v.tags(request.Tags);
  v.throwIfAny();

  // What the shape cannot say (API_CreateTransformJob, API_TransformS3DataSource; wording ours).
  const payload = request.MaxPayloadInMB as number | undefined;
  if (payload !== undefined && payload > MAX_PAYLOAD_IN_MB) {
    throw validationException(`MaxPayloadInMB (${payload}) cannot be greater than ${MAX_PAYLOAD_IN_MB} MB.`);
  }
  const concurrent = request.MaxConcurrentTransforms as number | undefined;
  if (payload !== undefined && concurrent !== undefined && concurrent * payload > MAX_PAYLOAD_IN_MB) {
    throw validationException(
      `MaxConcurrentTransforms * MaxPayloadInMB (${concurrent} * ${payload}) cannot exceed ${MAX_PAYLOAD_IN_MB} MB.`,
    );
  }
  const dataType = (((request.TransformInput as Json).DataSource as Json).S3DataSource as Json).S3DataType;
  if (dataType !== 'S3Prefix' && dataType !== 'ManifestFile') {
    throw validationException(
      `S3DataType ${String(dataType)} is not supported for transform jobs; use S3Prefix or ManifestFile.`,
    );
  }
}

export function createTransformJob(context: LocalSageMakerContext, request: Json): Json {
  validateCreateTransformJob(request);
  const name = request.TransformJobName as string;
  const arn = resourceArn(context, 'transform-job', name);
  if (context.store.transformJobs.has(name.toLowerCase())) {
    throw new SageMakerApiError(
      'ResourceInUse',
      `Transform job names must be unique within an AWS account and region, and a transform job with this name already exists (${arn})`,
    );
  }
  const modelName = request.ModelName as string;
  const model = findModel(context, modelName);
  if (!model) throw validationException(`Could not find model "${resourceArn(context, 'model', modelName)}".`);
  requireCapacity(context, 'transform job', transformDemand(request));
  const now = new Date();
  const job: TransformJobRecord = {
    name,
    arn,
    request: structuredClone(request),
    model: structuredClone(model.request),
    status: 'InProgress',
    creationTime: now,
    lastModifiedTime: now,
    injectedFailure: context.faults.takeTransformJobFailure(),
    log: [],
  };
  context.store.transformJobs.set(name.toLowerCase(), job);
  recordPeak(context, 'transform job');
  mergeTags(context, arn, request.Tags);
  startTransformJob(context, job);
  return { TransformJobArn: arn };
}

function findTransformJob(context: LocalSageMakerContext, name: unknown): TransformJobRecord {
  const jobName = validateName(name, 'transformJobName', PATTERNS.jobOrEndpointName);
  const job = context.store.transformJobs.get(jobName.toLowerCase());
  // Not-found answers as DescribeTrainingJob's does (ValidationException "Requested resource not found.").
  if (!job) throw validationException('Requested resource not found.');
  return job;
}

/** The request as sent (as SageMaker echoes it), with the job's status and times. */
export function describeTransformJob(context: LocalSageMakerContext, request: Json): Json {
  const job = findTransformJob(context, request.TransformJobName);
  const { Tags: _tags, TransformJobName: _name, ...echoed } = job.request;
  return {
    ...echoed,
    TransformJobName: job.name,
    TransformJobArn: job.arn,
    TransformJobStatus: job.status,
    ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
    CreationTime: epochSeconds(job.creationTime),
    ...(job.transformStartTime ? { TransformStartTime: epochSeconds(job.transformStartTime) } : {}),
    ...(job.transformEndTime ? { TransformEndTime: epochSeconds(job.transformEndTime) } : {}),
  };
}

/**
 * Stopping, then Stopped: "When you stop a batch transform job before it is completed, Amazon SageMaker doesn't store
 * the job's output in Amazon S3" (StopTransformJob) — the runner discards every output it had not published.
 */
export function stopTransformJob(context: LocalSageMakerContext, request: Json): Json {
  const job = findTransformJob(context, request.TransformJobName);
  if (job.status !== 'InProgress') {
    throw validationException(`The request was rejected because the transform job is in status ${job.status}`);
  }
  job.status = 'Stopping';
  job.lastModifiedTime = new Date();
  context.scheduler.after(
    context.timing.stopDelayMs,
    () => finishTransformJob(context, job, { status: 'Stopped' }),
    () => undefined,
  );
  return {};
}

export function listTransformJobs(context: LocalSageMakerContext, request: Json): Json {
  return listResources(request, {
    items: [...context.store.transformJobs.values()],
    describe: (job) => ({
      name: job.name,
      creationTime: job.creationTime,
      lastModifiedTime: job.lastModifiedTime,
      status: job.status,
    }),
    summarize: (job) => ({
      TransformJobName: job.name,
      TransformJobArn: job.arn,
      CreationTime: epochSeconds(job.creationTime),
      ...(job.transformEndTime ? { TransformEndTime: epochSeconds(job.transformEndTime) } : {}),
      LastModifiedTime: epochSeconds(job.lastModifiedTime),
      TransformJobStatus: job.status,
      ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
    }),
    resultKey: 'TransformJobSummaries',
    defaultSortOrder: 'Descending',
    sortByValues: ['Name', 'CreationTime', 'Status'],
    statusValues: TRANSFORM_STATUSES,
  });
}
