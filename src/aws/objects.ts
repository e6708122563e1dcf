import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PipelineError } from '../errors';
import { s3Client } from './clients';

/** S3 answered, but not with a usable object (e.g. a GetObject response without a body). */
export class ObjectReadError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ObjectReadError';
  }
}

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface ObjectHead {
  size: number;
  etag?: string;
  versionId?: string;
  contentType?: string;
}

/** S3 refused the request: a HEAD answer has no body, so the SDK alone reports it as a bare "UnknownError". */
export class ObjectAccessDeniedError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ObjectAccessDeniedError';
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchVersion' || statusOf(error) === 404;
}

/** The object's metadata, or undefined when it does not exist. */
export async function headObject(ref: ObjectRef): Promise<ObjectHead | undefined> {
  try {
    const head = await s3Client().send(
      new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
    );
    return { size: head.ContentLength ?? 0, etag: head.ETag, versionId: head.VersionId, contentType: head.ContentType };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    if (statusOf(error) === 403) {
      throw new ObjectAccessDeniedError(
        `S3 refused HeadObject on s3://${ref.bucket}/${ref.key} (403 Forbidden): the caller needs s3:GetObject on ` +
          'the object (without s3:ListBucket on the bucket, S3 also answers 403 for an object that does not exist)',
        { cause: error },
      );
    }
    throw error;
  }
}

export async function getObjectBytes(ref: ObjectRef): Promise<Uint8Array> {
  const response = await s3Client().send(
    new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
  );
  if (!response.Body) throw new ObjectReadError(`s3://${ref.bucket}/${ref.key} has no body`);
  return response.Body.transformToByteArray();
}

/** An object opened for one pass: its size, and its bytes as they arrive. */
export async function openObject(ref: ObjectRef): Promise<{ size: number; chunks: AsyncIterable<Uint8Array> }> {
  const response = await s3Client().send(
    new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
  );
  if (!response.Body) throw new ObjectReadError(`s3://${ref.bucket}/${ref.key} has no body`);
  return { size: response.ContentLength ?? 0, chunks: response.Body as AsyncIterable<Uint8Array> };
}

/** The object's bytes as they arrive, for one pass over data too big to hold. */
export async function* objectChunks(ref: ObjectRef): AsyncGenerator<Uint8Array> {
  yield* (await openObject(ref)).chunks;
}

export async function getObjectText(ref: ObjectRef): Promise<string> {
  return new TextDecoder('utf-8').decode(await getObjectBytes(ref));
}

export async function getObjectJson<T>(ref: ObjectRef): Promise<T> {
  return JSON.parse(await getObjectText(ref)) as T;
}

/** The object's JSON, or undefined when it does not exist. */
export async function getObjectJsonIfExists<T>(ref: ObjectRef): Promise<T | undefined> {
  try {
    return await getObjectJson<T>(ref);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function putObject(
  ref: ObjectRef,
  body: string | Uint8Array,
  contentType: string,
): Promise<{ etag?: string }> {
  const response = await s3Client().send(
    new PutObjectCommand({ Bucket: ref.bucket, Key: ref.key, Body: body, ContentType: contentType }),
  );
  return { etag: response.ETag };
}

export async function putJson(ref: ObjectRef, value: unknown): Promise<void> {
  await putObject(ref, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
}

/**
 * Writes the object only if no object exists at the key (S3 conditional write, If-None-Match: *).
 * Returns false when another writer got there first: the basis of exactly-once runs per upload.
 */
export async function putIfAbsent(ref: ObjectRef, body: string, contentType: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await s3Client().send(
        new PutObjectCommand({
          Bucket: ref.bucket,
          Key: ref.key,
          Body: body,
          ContentType: contentType,
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
      if (status === 412 || (error as { name?: string })?.name === 'PreconditionFailed') return false;
      // 409 ConditionalRequestConflict: a concurrent conditional write is in flight; S3 asks to retry.
      if (status === 409 && attempt < 5) {
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        continue;
      }
      throw error;
    }
  }
}

/** Reads a JSON object that a concurrent writer may still be completing (a lost conditional write). */
export async function getObjectJsonEventually<T>(ref: ObjectRef, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await getObjectJson<T>(ref);
    } catch (error) {
      if (!isNotFound(error) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}
