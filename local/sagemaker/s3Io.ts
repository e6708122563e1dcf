// S3 access of the emulated training and inference containers.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { LocalSageMakerContext } from './context';
import { parseS3Uri } from './validation';

/** The containers' S3 client: the given role credentials, else the process's (or S3RVER's) without IAM. */
export function createContainerS3Client(
  endpoint: string,
  region: string,
  roleCredentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): S3Client {
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = process.env;
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials:
      roleCredentials ??
      (accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, sessionToken }
        : { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
    // s3rver stores aws-chunked framing verbatim unless checksums are only sent when required
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
}

/**
 * The S3 client a training job or endpoint uses: its role's with IAM (none, for a model created without an execution
 * role: SageMaker then has no credentials to read the model with), the shared one without IAM.
 */
export function roleS3(context: LocalSageMakerContext, roleArn: unknown): S3Client {
  if (!context.s3ForRole) return context.s3;
  return context.s3ForRole(typeof roleArn === 'string' ? roleArn : '');
}

/** Keys under an S3Prefix data source, in key order, skipping "folder" markers. */
export async function listPrefix(s3: S3Client, uri: string): Promise<{ bucket: string; keys: string[] }> {
  const { bucket, key: prefix } = parseS3Uri(uri);
  const keys: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: continuationToken }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key && !(object.Key.endsWith('/') && (object.Size ?? 0) === 0)) keys.push(object.Key);
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
  keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))); // S3's key order is UTF-8 byte order
  return { bucket, keys };
}

export async function getObjectBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

export async function readS3Uri(s3: S3Client, uri: string): Promise<Buffer> {
  const { bucket, key } = parseS3Uri(uri);
  return getObjectBytes(s3, bucket, key);
}

export async function writeS3Uri(s3: S3Client, uri: string, body: Buffer, contentType: string): Promise<void> {
  const { bucket, key } = parseS3Uri(uri);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

/**
 * An object's bytes as they arrive (decompressed with `gunzip`), never the whole object at once. Breaking out of the
 * loop closes the download. A gzip error has zlib's `Z_…` code.
 */
export async function* objectChunks(
  s3: S3Client,
  bucket: string,
  key: string,
  options: { gunzip?: boolean } = {},
): AsyncGenerator<Buffer, void, undefined> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = response.Body as Readable | undefined;
  if (!body) return;
  if (!options.gunzip) {
    try {
      for await (const chunk of body) yield chunk as Buffer;
    } finally {
      body.destroy();
    }
    return;
  }
  const gunzip = createGunzip();
  const piping = pipeline(body, gunzip).catch(() => undefined); // errors surface from the gunzip side below
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    body.destroy();
    gunzip.destroy();
    await piping;
  }
}

/** S3's smallest part (but the last); parts are uploaded at this size so at most one part is held in memory. */
const PART_BYTES = 8 * 1024 * 1024;

/**
 * An object written as a stream and published later: parts are uploaded as they fill (multipart upload), and the
 * object only appears at `publish()` — never as a partial object; `discard()` aborts instead. An object smaller than
 * one part is kept in memory and put whole at `publish()`.
 */
export class PendingObject {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private uploadId?: string;
  private readonly parts: { ETag?: string; PartNumber: number }[] = [];
  private closed = false;
  bytes = 0;

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    readonly key: string,
    private readonly contentType?: string,
  ) {}

  async write(data: Buffer | string): Promise<void> {
    const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.bytes += chunk.length;
    if (this.buffered >= PART_BYTES) await this.uploadPart(PART_BYTES);
  }

  /** No more data: the last part is uploaded now (a multipart upload), the object still is not visible. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.uploadId && this.buffered > 0) await this.uploadPart(this.buffered);
  }

  async publish(): Promise<void> {
    await this.close();
    if (!this.uploadId) {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: Buffer.concat(this.chunks),
          ContentType: this.contentType,
        }),
      );
      this.chunks = [];
      return;
    }
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: this.key,
        UploadId: this.uploadId,
        MultipartUpload: { Parts: this.parts },
      }),
    );
  }

  /** Drops what was written; an unfinished multipart upload is aborted (best effort: the role may not be allowed). */
  async discard(): Promise<void> {
    this.closed = true;
    this.chunks = [];
    if (!this.uploadId) return;
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }))
      .catch(() => undefined);
  }

  private async uploadPart(size: number): Promise<void> {
    const all = Buffer.concat(this.chunks);
    const part = all.subarray(0, size);
    const rest = all.subarray(size);
    this.chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.buffered = rest.length;
    if (!this.uploadId) {
      const created = await this.s3.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, ContentType: this.contentType }),
      );
      this.uploadId = created.UploadId;
    }
    const PartNumber = this.parts.length + 1;
    const uploaded = await this.s3.send(
      new UploadPartCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, PartNumber, Body: part }),
    );
    this.parts.push({ ETag: uploaded.ETag, PartNumber });
  }
}
