// The emulated batch transform: every input object streamed in records, sent to the k-NN container in mini-batches (the
// same container an endpoint runs), the answers streamed to `<S3OutputPath>/<name>.out` and published at the end.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Json, LocalSageMakerContext, TransformJobRecord } from './context';
import {
  applyJsonPath,
  DataProcessingError,
  formatRecord,
  joinRecord,
  type JsonPath,
  parseJsonPath,
  parseRecord,
  predictionTexts,
  RawJson,
  type RecordFormat,
  recordFormat,
} from './dataProcessing';
import { knnAlgorithm } from './knn';
import { invokeContainer } from './runtime';
import { listPrefix, objectChunks, PendingObject, readS3Uri, roleS3 } from './s3Io';
import { TransformJobLog } from './trainingLog';
import { parseS3Uri } from './validation';

const MB = 1024 * 1024;
/** "The default value is 6 MB" (MaxPayloadInMB). */
const DEFAULT_MAX_PAYLOAD_IN_MB = 6;
const MAX_FAILURE_REASON = 1024;
const SEE_JOB_LOGS = 'ClientError: See job logs for more information';
const INTERNAL_FAILURE = 'InternalServerError: We encountered an internal error. Please try again.';

/** A failure of the whole job; the message is its FailureReason. */
class TransformFailure extends Error {}
/** A failure of one input object: logged, the other objects go on, the job ends Failed ("See job logs"). */
class ObjectFailure extends Error {}

const isTerminal = (job: TransformJobRecord) =>
  job.status === 'Completed' || job.status === 'Failed' || job.status === 'Stopped';

export function finishTransformJob(
  context: LocalSageMakerContext,
  job: TransformJobRecord,
  outcome: { status: 'Completed' | 'Failed' | 'Stopped'; failureReason?: string },
): void {
  if (isTerminal(job) || context.scheduler.isClosed) return;
  if (job.status === 'Stopping' && outcome.status !== 'Stopped') return; // a requested stop wins over a late result
  const now = new Date();
  job.status = outcome.status;
  job.transformEndTime = now;
  job.lastModifiedTime = now;
  if (outcome.failureReason) job.failureReason = outcome.failureReason.slice(0, MAX_FAILURE_REASON);
}

export function startTransformJob(context: LocalSageMakerContext, job: TransformJobRecord): void {
  const log = new TransformJobLog(job.log, job.name, context.logDirectory);
  context.scheduler.after(
    context.timing.transformStartDelayMs,
    () => runTransformJob(context, job, log),
    (error) => {
      log.info(`Internal error: ${describeError(error)}`);
      finishTransformJob(context, job, { status: 'Failed', failureReason: INTERNAL_FAILURE });
    },
  );
}

interface Settings {
  contentType?: string;
  accept: string;
  split: boolean;
  singleRecord: boolean;
  maxPayloadBytes: number;
  assembleWithLine: boolean;
  gzip: boolean;
  join: boolean;
  inputFilter: JsonPath;
  outputFilter: JsonPath;
  /** The records' format (from ContentType) and the answers' (from Accept), for the filters and the join. */
  inputFormat?: RecordFormat;
  outputFormat?: RecordFormat;
  /** Answers are taken apart per record (join or output filter); otherwise each answer is written as it is. */
  perRecord: boolean;
  timeoutMs?: number;
}

interface Container {
  model: unknown;
  featureDim: number;
}

interface InputObject {
  bucket: string;
  key: string;
  /** The object's name relative to the input prefix (or manifest prefix): the output is `<S3OutputPath>/<this>.out`. */
  relative: string;
}

async function runTransformJob(
  context: LocalSageMakerContext,
  job: TransformJobRecord,
  log: TransformJobLog,
): Promise<void> {
  const running = () => job.status === 'InProgress' && !context.scheduler.isClosed;
  if (!running()) return;
  job.transformStartTime = new Date();
  job.lastModifiedTime = job.transformStartTime;
  const published: PendingObject[] = [];
  try {
    if (job.injectedFailure !== undefined) throw new TransformFailure(job.injectedFailure);
    const settings = settingsOf(job.request, log);
    const request = job.request;
    log.info(
      `MaxConcurrentTransforms=${String(request.MaxConcurrentTransforms ?? 1)}, MaxPayloadInMB=${settings.maxPayloadBytes / MB}, BatchStrategy=${settings.singleRecord ? 'SINGLE_RECORD' : 'MULTI_RECORD'}`,
    );
    const s3 = roleS3(context, job.model.ExecutionRoleArn);
    const container = await loadContainer(s3, job);
    const inputs = await listInputs(context, s3, request);
    const output = outputLocation(request);
    let failedObjects = 0;
    for (const input of inputs) {
      if (!running()) break;
      const target = new PendingObject(s3, output.bucket, `${output.prefix}${input.relative}.out`, settings.accept);
      log.object(input.bucket, input.key, `Started reading s3://${input.bucket}/${input.key}`);
      try {
        const records = await transformObject(context, s3, container, input, target, settings, running);
        if (records === undefined) {
          await target.discard();
          break;
        }
        await target.close();
        published.push(target);
        log.object(input.bucket, input.key, `Transformed ${records} record${records === 1 ? '' : 's'}`);
      } catch (error) {
        await target.discard();
        if (!(error instanceof ObjectFailure)) throw error;
        failedObjects++;
        log.object(input.bucket, input.key, error.message);
      }
    }
    if (!running()) {
      // "When you stop a batch transform job before it is completed, Amazon SageMaker doesn't store the job's output"
      await Promise.all(published.map((target) => target.discard()));
      return;
    }
    // "uploads only the output for successfully processed objects" — and only now, so no partial output ever shows.
    for (const target of published) await publish(target);
    if (failedObjects > 0) finishTransformJob(context, job, { status: 'Failed', failureReason: SEE_JOB_LOGS });
    else finishTransformJob(context, job, { status: 'Completed' });
  } catch (error) {
    await Promise.all(published.map((target) => target.discard()));
    if (context.scheduler.isClosed) return; // S3 calls fail once close() destroyed the client: not the job's fault
    if (!(error instanceof TransformFailure)) log.info(`Internal error: ${describeError(error)}`);
    const failureReason = error instanceof TransformFailure ? error.message : INTERNAL_FAILURE;
    finishTransformJob(context, job, { status: 'Failed', failureReason });
  }
}

function settingsOf(request: Json, log: TransformJobLog): Settings {
  const input = request.TransformInput as Json;
  const output = request.TransformOutput as Json;
  const processing = (request.DataProcessing as Json | undefined) ?? {};
  const splitType = (input.SplitType as string | undefined) ?? 'None';
  if (splitType === 'RecordIO' || splitType === 'TFRecord') {
    throw new TransformFailure(
      `ClientError: SplitType ${splitType} splits binary records; the local k-NN container reads text records only (text/csv, application/json, application/jsonlines): use SplitType Line.`,
    );
  }
  const payloadInMB = (request.MaxPayloadInMB as number | undefined) ?? DEFAULT_MAX_PAYLOAD_IN_MB;
  if (payloadInMB === 0) {
    // "Currently, Amazon SageMaker built-in algorithms do not support HTTP chunked encoding." (MaxPayloadInMB)
    throw new TransformFailure(
      'ClientError: MaxPayloadInMB 0 asks for HTTP chunked encoding, which the built-in algorithms do not support.',
    );
  }
  let inputFilter: JsonPath;
  let outputFilter: JsonPath;
  try {
    inputFilter = parseJsonPath(processing.InputFilter as string | undefined);
    outputFilter = parseJsonPath(processing.OutputFilter as string | undefined);
  } catch (error) {
    log.info((error as Error).message);
    throw new TransformFailure(SEE_JOB_LOGS);
  }
  const join = processing.JoinSource === 'Input';
  const contentType = input.ContentType as string | undefined;
  const accept = (output.Accept as string | undefined)?.trim() || 'application/json';
  const settings: Settings = {
    contentType,
    accept,
    split: splitType === 'Line',
    singleRecord: request.BatchStrategy === 'SingleRecord',
    maxPayloadBytes: payloadInMB * MB,
    assembleWithLine: output.AssembleWith === 'Line',
    gzip: input.CompressionType === 'Gzip',
    join,
    inputFilter,
    outputFilter,
    inputFormat: recordFormat(contentType),
    outputFormat: recordFormat(accept),
    perRecord: join || !outputFilter.isRoot,
    timeoutMs: ((request.ModelClientConfig as Json | undefined)?.InvocationsTimeoutInSeconds as number | undefined)
      ? ((request.ModelClientConfig as Json).InvocationsTimeoutInSeconds as number) * 1000
      : undefined,
  };
  const needsInputFormat = join || !inputFilter.isRoot;
  if (needsInputFormat && !settings.inputFormat) {
    log.info(`DataProcessing needs CSV or JSON input; ContentType is ${String(contentType)}`);
    throw new TransformFailure(SEE_JOB_LOGS);
  }
  if (settings.inputFormat === 'csv' && (!inputFilter.indexOnly || (join && !outputFilter.indexOnly))) {
    const path = inputFilter.indexOnly ? outputFilter.text : inputFilter.text;
    log.info(
      `Invalid JsonPath: ${path}: CSV records are arrays; only index based JSONPaths such as $[0] or $[1:] apply`,
    );
    throw new TransformFailure(SEE_JOB_LOGS);
  }
  if (!join && !outputFilter.isRoot && !settings.outputFormat) {
    log.info(`OutputFilter needs a CSV or JSON answer; Accept is ${accept}`);
    throw new TransformFailure(SEE_JOB_LOGS);
  }
  return settings;
}

/** The model the job names, as the container loads it (with the model's execution role). */
async function loadContainer(s3: S3Client, job: TransformJobRecord): Promise<Container> {
  const container = (job.model.PrimaryContainer ?? (job.model.Containers as Json[] | undefined)?.[0]) as Json;
  const modelDataUrl = container?.ModelDataUrl as string | undefined;
  if (!modelDataUrl) {
    throw new TransformFailure(
      `ClientError: Model "${String(job.model.ModelName)}" has no ModelDataUrl; the k-NN container needs the training job's model.tar.gz.`,
    );
  }
  let artifact: Buffer;
  try {
    artifact = await readS3Uri(s3, modelDataUrl);
  } catch (error) {
    throw new TransformFailure(
      `ClientError: Failed to download model data for container "container_1" from URL: "${modelDataUrl}". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the model. (${describeError(error)})`,
    );
  }
  try {
    const model = await knnAlgorithm.unpackModel(artifact);
    return { model, featureDim: knnAlgorithm.featureDim(model) };
  } catch (error) {
    throw new TransformFailure(
      `ClientError: Failed to extract model data archive from URL "${modelDataUrl}". Please ensure that the object located at the URL is a valid tar.gz archive. (${describeError(error)})`,
    );
  }
}

/** The input objects: every object under an S3Prefix, or the objects a manifest lists. */
async function listInputs(context: LocalSageMakerContext, s3: S3Client, request: Json): Promise<InputObject[]> {
  const source = ((request.TransformInput as Json).DataSource as Json).S3DataSource as Json;
  const uri = source.S3Uri as string;
  try {
    if (source.S3DataType === 'ManifestFile') return await manifestInputs(s3, uri);
    const { bucket, keys } = await listPrefix(s3, uri);
    const prefix = parseS3Uri(uri).key;
    const directory = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    if (keys.length === 0) {
      throw new TransformFailure(
        `ClientError: No S3 objects found under S3 URL "${uri}" given in input data source. Please ensure that the bucket exists in the selected region (${context.region}), that objects exist under that S3 prefix, and that the role passed to CreateModel has "s3:ListBucket" permissions on bucket "${bucket}".`,
      );
    }
    return keys.map((key) => ({ bucket, key, relative: key.slice(directory.length) }));
  } catch (error) {
    if (error instanceof TransformFailure) throw error;
    throw new TransformFailure(`ClientError: Failed to list the input ${uri}: ${describeError(error)}`);
  }
}

/** `[{"prefix": "s3://bucket/p/"}, "relative/key-1", …]` (API_TransformS3DataSource). */
async function manifestInputs(s3: S3Client, uri: string): Promise<InputObject[]> {
  let manifest: unknown;
  try {
    manifest = JSON.parse((await readS3Uri(s3, uri)).toString('utf8'));
  } catch (error) {
    throw new TransformFailure(`ClientError: Failed to read the manifest ${uri}: ${describeError(error)}`);
  }
  const [head, ...entries] = Array.isArray(manifest) ? manifest : [];
  const prefix = (head as { prefix?: unknown } | undefined)?.prefix;
  if (typeof prefix !== 'string' || !/^(s3|https):\/\//.test(prefix) || !entries.every((e) => typeof e === 'string')) {
    throw new TransformFailure(
      `ClientError: The manifest ${uri} must be a JSON array: [{"prefix": "s3://bucket/prefix/"}, "relative/key", …].`,
    );
  }
  const { bucket, key } = parseS3Uri(prefix);
  return (entries as string[]).map((relative) => ({ bucket, key: `${key}${relative}`, relative }));
}

function outputLocation(request: Json): { bucket: string; prefix: string } {
  const { bucket, key } = parseS3Uri((request.TransformOutput as Json).S3OutputPath as string);
  const trimmed = key.replace(/\/+$/, '');
  return { bucket, prefix: trimmed ? `${trimmed}/` : '' };
}

async function publish(target: PendingObject): Promise<void> {
  try {
    await target.publish();
  } catch (error) {
    throw new TransformFailure(
      `ClientError: Failed to upload the output to s3://${target.bucket}/${target.key}: ${describeError(error)}`,
    );
  }
}

interface PendingRecord {
  /** What goes to the container (after InputFilter). */
  request: string;
  /** The raw input record, for JoinSource Input. */
  original?: string;
}

/**
 * One input object, streamed: records (lines, or the whole object without splitting) in mini-batches up to
 * MaxPayloadInMB (one record each with SingleRecord); each answer written out as it comes. The number of records, or
 * undefined when the job stopped meanwhile.
 */
async function transformObject(
  context: LocalSageMakerContext,
  s3: S3Client,
  container: Container,
  input: InputObject,
  target: PendingObject,
  settings: Settings,
  running: () => boolean,
): Promise<number | undefined> {
  let batch: PendingRecord[] = [];
  let batchBytes = 0;
  let records = 0;
  let stopped = false;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const sent = batch;
    batch = [];
    batchBytes = 0;
    if (!running()) {
      stopped = true;
      return;
    }
    await sendBatch(context, container, sent, target, settings);
  };
  const add = async (line: string): Promise<void> => {
    const record = settings.split && line.endsWith('\r') ? line.slice(0, -1) : line;
    if (settings.split && !/\S/.test(record)) return; // a blank line is no record (the container would skip it)
    const request = filterInput(record, settings);
    const bytes = Buffer.byteLength(request) + (settings.split ? 1 : 0);
    if (bytes > settings.maxPayloadBytes) {
      throw new ObjectFailure(
        `ClientError: Too much data for max payload size: a record of ${bytes} bytes is larger than MaxPayloadInMB (${settings.maxPayloadBytes / MB}).`,
      );
    }
    if (batch.length > 0 && (settings.singleRecord || batchBytes + bytes > settings.maxPayloadBytes)) await flush();
    batch.push({ request, ...(settings.join ? { original: record } : {}) });
    batchBytes += bytes;
    records++;
  };

  const decoder = new TextDecoder('utf-8');
  let pending = '';
  try {
    for await (const chunk of objectChunks(s3, input.bucket, input.key, { gunzip: settings.gzip })) {
      if (!running() || stopped) return undefined;
      const text = pending + decoder.decode(chunk, { stream: true });
      if (!settings.split) {
        pending = text;
        if (Buffer.byteLength(pending) > settings.maxPayloadBytes) {
          throw new ObjectFailure(
            `ClientError: Too much data for max payload size: with SplitType None the whole object is one request, larger than MaxPayloadInMB (${settings.maxPayloadBytes / MB}).`,
          );
        }
        continue;
      }
      let start = 0;
      for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
        await add(text.slice(start, newline));
        start = newline + 1;
        if (stopped) return undefined;
      }
      pending = text.slice(start);
    }
  } catch (error) {
    if (error instanceof ObjectFailure || error instanceof TransformFailure) throw error;
    if ((error as { code?: string }).code?.startsWith('Z_')) {
      throw new ObjectFailure(`ClientError: CompressionType is Gzip but the object is not gzip data.`);
    }
    throw new TransformFailure(
      `ClientError: Failed to download the input s3://${input.bucket}/${input.key}: ${describeError(error)}`,
    );
  }
  pending += decoder.decode();
  if (pending.length > 0 || (!settings.split && records === 0)) await add(pending);
  await flush();
  return stopped || !running() ? undefined : records;
}

function filterInput(record: string, settings: Settings): string {
  if (settings.inputFilter.isRoot) return record;
  try {
    const value = parseRecord(record, settings.inputFormat!);
    return formatRecord(applyJsonPath(settings.inputFilter, value, 'input record'), settings.inputFormat!);
  } catch (error) {
    if (error instanceof DataProcessingError) throw new ObjectFailure(`ClientError: InputFilter: ${error.message}`);
    throw error;
  }
}

async function sendBatch(
  context: LocalSageMakerContext,
  container: Container,
  batch: PendingRecord[],
  target: PendingObject,
  settings: Settings,
): Promise<void> {
  const body = Buffer.from(batch.map((record) => (settings.split ? `${record.request}\n` : record.request)).join(''));
  let answer: { body: Buffer; contentType: string };
  try {
    const invocation = invokeContainer(context, container, body, settings.contentType, settings.accept);
    answer = settings.timeoutMs === undefined ? await invocation : await withTimeout(invocation, settings.timeoutMs);
  } catch (error) {
    if (knnAlgorithm.isInferenceInputError(error)) {
      // How SageMaker logs a 4xx from the container ("<bucket>/<key>: ClientError: 400", then the message).
      const status = knnAlgorithm.inferenceErrorStatus(error);
      throw new ObjectFailure(`ClientError: ${status}\nMessage:\n${(error as Error).message}`);
    }
    throw new ObjectFailure(`ServerError: 500\nMessage:\n${describeError(error)}`);
  }
  const separator = settings.assembleWithLine ? '\n' : '';
  if (!settings.perRecord) {
    await writeOutput(
      target,
      settings.assembleWithLine ? Buffer.concat([answer.body, Buffer.from('\n')]) : answer.body,
    );
    return;
  }
  let lines: string[];
  try {
    lines = answerRecords(answer.body.toString('utf8'), settings);
    if (lines.length !== batch.length) {
      throw new DataProcessingError(
        `the model answered ${lines.length} records for ${batch.length}; the output cannot be joined with the input`,
      );
    }
    const out: string[] = [];
    batch.forEach((record, i) => {
      const output = new RawJson(lines[i]);
      const format = settings.join ? settings.inputFormat! : settings.outputFormat!;
      const joined = settings.join
        ? joinRecord(parseRecord(record.original!, format), output, format)
        : parseRecord(lines[i], format);
      const filtered = settings.outputFilter.isRoot
        ? joined
        : applyJsonPath(settings.outputFilter, joined, 'joined record');
      out.push(`${formatRecord(filtered, format)}${separator}`);
    });
    await writeOutput(target, Buffer.from(out.join('')));
  } catch (error) {
    if (error instanceof DataProcessingError) throw new ObjectFailure(`ClientError: ${error.message}`);
    throw error;
  }
}

/** The answer for each record: JSON Lines by line, JSON by element of "predictions", CSV by line. */
function answerRecords(body: string, settings: Settings): string[] {
  const type = settings.accept.split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return predictionTexts(body);
  return body.split('\n').filter((line, i, all) => !(i === all.length - 1 && line === ''));
}

async function writeOutput(target: PendingObject, data: Buffer): Promise<void> {
  try {
    await target.write(data);
  } catch (error) {
    throw new TransformFailure(
      `ClientError: Failed to upload the output to s3://${target.bucket}/${target.key}: ${describeError(error)}`,
    );
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`The model did not answer within InvocationsTimeoutInSeconds (${ms / 1000})`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

function describeError(error: unknown): string {
  if (error instanceof Error && error.name === 'AccessDenied') return `AccessDenied (403): ${error.message}`;
  return error instanceof Error ? error.message || error.name : String(error);
}
