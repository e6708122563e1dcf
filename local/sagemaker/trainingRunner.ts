// The emulated k-NN training container: download channels, train, upload model.tar.gz, report status.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Json, LocalSageMakerContext, TrainingJobRecord } from './context';
import { type ChannelReader, type ChannelRows, knnAlgorithm, type KnnTraining } from './knn';
import { listPrefix, objectChunks, roleS3, writeS3Uri } from './s3Io';
import { TrainingJobLog } from './trainingLog';

const MAX_FAILURE_REASON = 1024;
const INPUT_VALIDATION_FAILURE =
  'ClientError: Unable to initialize the algorithm. Failed to validate input data configuration. (caused by ValidationError)';
const INTERNAL_FAILURE = 'InternalServerError: We encountered an internal error. Please try again.';

/** A failure whose FailureReason is already known ("ClientError: …" / "AlgorithmError: …"). */
class TrainingFailure extends Error {}

export function recordTransition(job: TrainingJobRecord, status: string, message: string, at = new Date()): void {
  const current = job.transitions.at(-1);
  if (current && !current.EndTime) current.EndTime = at;
  job.transitions.push({ Status: status, StartTime: at, StatusMessage: message });
  job.secondaryStatus = status;
  job.lastModifiedTime = at;
}

const isTerminal = (job: TrainingJobRecord) =>
  job.status === 'Completed' || job.status === 'Failed' || job.status === 'Stopped';

export function finishTrainingJob(
  context: LocalSageMakerContext,
  job: TrainingJobRecord,
  outcome: { status: 'Completed' | 'Failed' | 'Stopped'; message: string; failureReason?: string },
): void {
  if (isTerminal(job) || context.scheduler.isClosed) return; // nothing changes (or gets logged) after close()
  if (job.status === 'Stopping' && outcome.status !== 'Stopped') return; // a requested stop wins over a late result
  const now = new Date();
  job.status = outcome.status;
  recordTransition(job, outcome.status, outcome.message, now);
  job.transitions.at(-1)!.EndTime = now;
  job.trainingEndTime = now;
  if (outcome.failureReason) job.failureReason = outcome.failureReason.slice(0, MAX_FAILURE_REASON);
  const log = new TrainingJobLog(job.log, job.name, context.logDirectory);
  if (outcome.status === 'Failed') log.error(`Training job failed: ${job.failureReason}`);
  else log.info(outcome.message);
}

export function startTrainingJob(context: LocalSageMakerContext, job: TrainingJobRecord): void {
  const log = new TrainingJobLog(job.log, job.name, context.logDirectory);
  log.info(`Starting training job ${job.name}`);
  context.scheduler.after(
    context.timing.trainingStartDelayMs,
    () => runTrainingJob(context, job, log),
    (error) => {
      log.error(`Internal error: ${describeError(error)}`);
      finishTrainingJob(context, job, {
        status: 'Failed',
        message: 'Training job failed',
        failureReason: INTERNAL_FAILURE,
      });
    },
  );
}

async function runTrainingJob(
  context: LocalSageMakerContext,
  job: TrainingJobRecord,
  log: TrainingJobLog,
): Promise<void> {
  const stillRunning = () => job.status === 'InProgress' && !context.scheduler.isClosed;
  // A short pause per phase so pollers can observe Downloading → Training → Uploading
  const pause = () => context.scheduler.sleep(Math.max(5, Math.round(context.timing.trainingStartDelayMs / 4)));
  if (!stillRunning()) return;

  job.trainingStartTime = new Date();
  recordTransition(job, 'Downloading', 'Downloading input data');
  try {
    if (job.injectedFailure !== undefined) {
      await pause();
      throw new TrainingFailure(job.injectedFailure);
    }
    const channels = resolveChannels(job.request);
    const hostCount = instanceCount(job.request);
    const train = await listChannel(context, job, channels.train);
    const test = channels.test ? await listChannel(context, job, channels.test) : undefined;
    const hyperparameters = (job.request.HyperParameters as Record<string, string> | undefined) ?? {};
    const training = runAlgorithm(() => knnAlgorithm.startTraining(hyperparameters));
    const trainRows = await readTrainChannel(context, job, training, train, hostCount, log, stillRunning);
    if (!trainRows) return;
    let testRows: ChannelRows | undefined;
    if (test) {
      const share = [{ host: 0, keys: test.keys }];
      testRows = (await readChannel(context, job, training, test, share, 1, log, stillRunning))?.[0];
      if (!testRows) return;
    }
    await pause();
    if (!stillRunning()) return;

    recordTransition(job, 'Training', 'Training image download completed. Training in progress.');
    await pause();
    if (!stillRunning()) return;
    const seed = trainingSeed(channels.train, context.defaultSeed);
    log.info(`Training with hyperparameters ${JSON.stringify(hyperparameters)} (seed ${seed})`);
    // The host rows are handed over: train() lets go of them once sampled, before it builds the index.
    const result = runAlgorithm(() => training.train({ hosts: trainRows, test: testRows, seed }));
    log.algorithm(result.log);
    if (!stillRunning()) return;

    recordTransition(job, 'Uploading', 'Uploading generated training model');
    const artifact = await runAlgorithmAsync(() => knnAlgorithm.packModel(result.model));
    const artifactUri = modelArtifactUri(job);
    log.info(`Uploading model artifact to ${artifactUri} (${artifact.length} bytes)`);
    try {
      await writeS3Uri(roleS3(context, job.request.RoleArn), artifactUri, artifact, 'application/x-tar');
    } catch (error) {
      throw new TrainingFailure(
        `ClientError: Failed to upload model artifact to ${artifactUri}: ${describeError(error)}`,
      );
    }
    await pause();
    if (!stillRunning()) return;

    job.modelArtifactUri = artifactUri;
    if (result.finalMetrics.length > 0) {
      const timestamp = new Date();
      job.finalMetrics = result.finalMetrics.map((metric) => ({ ...metric, Timestamp: timestamp }));
    }
    finishTrainingJob(context, job, { status: 'Completed', message: 'Training job completed' });
  } catch (error) {
    if (context.scheduler.isClosed) return; // S3 calls fail once close() destroyed the client: not the job's fault
    if (!(error instanceof TrainingFailure)) log.error(`Internal error: ${describeError(error)}`);
    const failureReason = error instanceof TrainingFailure ? error.message : INTERNAL_FAILURE;
    finishTrainingJob(context, job, { status: 'Failed', message: 'Training job failed', failureReason });
  }
}

/** `<S3OutputPath>/<job>/output/model.tar.gz`, whether or not the output path ends with a slash. */
export function modelArtifactUri(job: TrainingJobRecord): string {
  const outputPath = ((job.request.OutputDataConfig as Json).S3OutputPath as string).replace(/\/+$/, '');
  return `${outputPath}/${job.name}/output/model.tar.gz`;
}

function resolveChannels(request: Json): { train: Json; test?: Json } {
  const channels = (request.InputDataConfig as Json[] | undefined) ?? [];
  const byName = new Map(channels.map((channel) => [channel.ChannelName as string, channel]));
  const unexpected = [...byName.keys()].filter((name) => name !== 'train' && name !== 'test');
  if (unexpected.length > 0) {
    const list = unexpected.map((name) => `'${name}'`).join(', ');
    throw new TrainingFailure(
      `${INPUT_VALIDATION_FAILURE}\n\nCaused by: Additional properties are not allowed (${list} ${unexpected.length === 1 ? 'was' : 'were'} unexpected)`,
    );
  }
  const train = byName.get('train');
  if (!train) throw new TrainingFailure(`${INPUT_VALIDATION_FAILURE}\n\nCaused by: 'train' is a required property`);
  for (const channel of byName.values()) checkChannelFormat(channel);
  return { train, test: byName.get('test') };
}

function checkChannelFormat(channel: Json): void {
  const name = channel.ChannelName as string;
  // k-NN's default content type is recordIO-protobuf, which the local container doesn't read
  const contentType = ((channel.ContentType as string | undefined) ?? 'application/x-recordio-protobuf')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (contentType === 'application/x-recordio-protobuf') {
    throw new TrainingFailure(
      `ClientError: Channel '${name}' has content type application/x-recordio-protobuf${channel.ContentType ? '' : ' (the default when ContentType is absent)'}; the local k-NN container reads text/csv only.`,
    );
  }
  if (contentType !== 'text/csv') {
    throw new TrainingFailure(
      `${INPUT_VALIDATION_FAILURE}\n\nCaused by: '${contentType}' is not one of ['text/csv', 'application/x-recordio-protobuf'] (channel '${name}')`,
    );
  }
  const s3Source = (channel.DataSource as Json).S3DataSource as Json;
  if (s3Source.S3DataType !== 'S3Prefix') {
    throw new TrainingFailure(
      `ClientError: Channel '${name}' uses S3DataType ${String(s3Source.S3DataType)}; the local k-NN container supports S3Prefix only.`,
    );
  }
  if (channel.RecordWrapperType === 'RecordIO') {
    throw new TrainingFailure(
      `ClientError: Channel '${name}' uses RecordWrapperType RecordIO, which is not supported with text/csv.`,
    );
  }
}

interface ChannelListing {
  channel: Json;
  name: string;
  uri: string;
  bucket: string;
  keys: string[];
}

function instanceCount(request: Json): number {
  const count = (request.ResourceConfig as Json | undefined)?.InstanceCount;
  return typeof count === 'number' && Number.isInteger(count) && count > 0 ? count : 1;
}

/** The channel's objects, in S3 key order; a prefix without objects fails the job as SageMaker's download does. */
async function listChannel(
  context: LocalSageMakerContext,
  job: TrainingJobRecord,
  channel: Json,
): Promise<ChannelListing> {
  const name = channel.ChannelName as string;
  const uri = ((channel.DataSource as Json).S3DataSource as Json).S3Uri as string;
  const notFound = (bucket: string) =>
    new TrainingFailure(
      `ClientError: Data download failed:No S3 objects found under S3 URL "${uri}" given in input data source. Please ensure that the bucket exists in the selected region (${context.region}), that objects exist under that S3 prefix, and that the role "${String(job.request.RoleArn)}" has "s3:ListBucket" permissions on bucket "${bucket}".`,
    );
  let listing: { bucket: string; keys: string[] };
  try {
    listing = await listPrefix(roleS3(context, job.request.RoleArn), uri);
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket')
      throw notFound(/^[a-z0-9]+:\/\/([^/]+)/.exec(uri)?.[1] ?? '');
    if (isAccessDenied(error)) {
      throw new TrainingFailure(`ClientError: Data download failed:Failed to list ${uri}: ${describeError(error)}`);
    }
    throw new TrainingFailure(`ClientError: Data download failed:${describeError(error)}`);
  }
  if (listing.keys.length === 0) throw notFound(listing.bucket);
  return { channel, name, uri, bucket: listing.bucket, keys: listing.keys };
}

/**
 * The objects each host of the job receives. FullyReplicated: every object on every host. ShardedByS3Key: AWS says
 * only that "each instance gets approximately 1/n of the number of S3 objects" (API_S3DataSource); locally the objects,
 * in S3 key order, are dealt round-robin — object i to host (i mod n) — so n shards written as n objects give one
 * shard per host, in key order.
 */
export function shareObjects(keys: readonly string[], hosts: number, sharded: boolean): string[][] {
  if (!sharded || hosts === 1) return [keys.slice()];
  const shares = Array.from({ length: hosts }, () => [] as string[]);
  keys.forEach((key, i) => shares[i % hosts].push(key));
  return shares;
}

/** The train channel as each host received it (one entry per host); undefined when the job stopped meanwhile. */
async function readTrainChannel(
  context: LocalSageMakerContext,
  job: TrainingJobRecord,
  training: KnnTraining,
  listing: ChannelListing,
  hostCount: number,
  log: TrainingJobLog,
  stillRunning: () => boolean,
): Promise<ChannelRows[] | undefined> {
  const source = (listing.channel.DataSource as Json).S3DataSource as Json;
  const sharded = source.S3DataDistributionType === 'ShardedByS3Key';
  const shares = shareObjects(listing.keys, hostCount, sharded).map((keys, host) => ({ host, keys }));
  const rows = await readChannel(context, job, training, listing, shares, hostCount, log, stillRunning);
  // Replicated: every host received the same rows (one copy in memory).
  return rows && (rows.length === hostCount ? rows : Array.from({ length: hostCount }, () => rows[0]));
}

async function readChannel(
  context: LocalSageMakerContext,
  job: TrainingJobRecord,
  training: KnnTraining,
  listing: ChannelListing,
  shares: { host: number; keys: string[] }[],
  hostCount: number,
  log: TrainingJobLog,
  stillRunning: () => boolean,
): Promise<ChannelRows[] | undefined> {
  const { name, uri, bucket } = listing;
  const s3 = roleS3(context, job.request.RoleArn);
  const gzip = listing.channel.CompressionType === 'Gzip';
  const result: ChannelRows[] = [];
  for (const { host, keys } of shares) {
    const reader = runAlgorithm(() =>
      training.channelReader(
        name === 'test' ? 'test' : 'train',
        shares.length > 1 ? { index: host, count: hostCount } : undefined,
      ),
    );
    for (const key of keys) {
      const complete = await readObject(s3, bucket, key, name, gzip, reader, stillRunning);
      if (!complete) return undefined;
    }
    const rows = runAlgorithm(() => reader.end());
    const objects = `${keys.length} object${keys.length === 1 ? '' : 's'}`;
    if (shares.length > 1) {
      const shown = keys.slice(0, 10).map((key) => `s3://${bucket}/${key}`);
      if (keys.length > shown.length) shown.push(`… (${keys.length - shown.length} more)`);
      log.info(
        `Downloading channel ${name} (${rows.bytes} bytes) from ${uri} for algo-${host + 1} of ${hostCount} (ShardedByS3Key: ${objects}${shown.length > 0 ? `: ${shown.join(', ')}` : ''})`,
      );
    } else {
      log.info(`Downloading channel ${name} (${rows.bytes} bytes) from ${uri} (${objects})`);
    }
    result.push(rows);
  }
  return result;
}

/** Streams one object into the channel reader; false when the job stopped meanwhile. */
async function readObject(
  s3: S3Client,
  bucket: string,
  key: string,
  channel: string,
  gzip: boolean,
  reader: ChannelReader,
  stillRunning: () => boolean,
): Promise<boolean> {
  const chunks = objectChunks(s3, bucket, key, { gunzip: gzip });
  try {
    for await (const chunk of chunks) {
      if (!stillRunning()) return false;
      runAlgorithm(() => reader.write(chunk));
    }
  } catch (error) {
    if (error instanceof TrainingFailure) throw error;
    if ((error as { code?: string }).code?.startsWith('Z_')) {
      throw new TrainingFailure(
        `ClientError: Channel '${channel}' has CompressionType Gzip but s3://${bucket}/${key} is not gzip data.`,
      );
    }
    throw new TrainingFailure(
      `ClientError: Data download failed:Failed to download s3://${bucket}/${key}: ${describeError(error)}`,
    );
  }
  reader.endObject();
  return true;
}

function trainingSeed(trainChannel: Json, defaultSeed: number): number {
  const seed = (trainChannel.ShuffleConfig as Json | undefined)?.Seed;
  return typeof seed === 'number' && Number.isFinite(seed) ? seed : defaultSeed;
}

/** KnnClientError keeps its "ClientError: …" message; any other exception is the algorithm's fault. */
function runAlgorithm<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw toTrainingFailure(error);
  }
}

async function runAlgorithmAsync<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw toTrainingFailure(error);
  }
}

function toTrainingFailure(error: unknown): TrainingFailure {
  if (knnAlgorithm.isClientError(error)) {
    const message = (error as Error).message;
    return new TrainingFailure(message.startsWith('ClientError:') ? message : `ClientError: ${message}`);
  }
  return new TrainingFailure(`AlgorithmError: ${describeError(error)}`);
}

function describeError(error: unknown): string {
  if (isAccessDenied(error)) return `AccessDenied (403): ${(error as Error).message}`;
  return error instanceof Error ? error.message || error.name : String(error);
}

/** S3's 403 AccessDenied (local IAM: the job's role may not read or write that object). */
function isAccessDenied(error: unknown): boolean {
  return error instanceof Error && error.name === 'AccessDenied';
}
