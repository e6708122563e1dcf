import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type LocalS3, type LocalS3ObjectCreatedEvent } from '../../local/s3';
import { startS3, useEmulators, withEmulators } from '../support/emulators';

const BUCKET = 'knn-data';

describe('local S3 (s3rver)', () => {
  const local = useEmulators(() => startS3({ buckets: [BUCKET, 'other-bucket'] }));
  let localS3: LocalS3;
  let s3: S3Client;
  const created: LocalS3ObjectCreatedEvent[] = [];

  beforeAll(() => {
    localS3 = local.s3;
    localS3.onObjectCreated((event) => created.push(event));
    s3 = local.s3Client();
  });

  const getBytes = async (key: string, bucket = BUCKET): Promise<Buffer> => {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await response.Body!.transformToByteArray());
  };

  const waitForEvent = async (key: string): Promise<LocalS3ObjectCreatedEvent> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const event = created.find((e) => e.key === key);
      if (event) return event;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no ObjectCreated event for ${key}`);
  };

  it('listens on 127.0.0.1 with a random port and keeps data under the directory', () => {
    expect(localS3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(localS3.endpoint).not.toMatch(/:4568$/);
    expect(localS3.directory).toBe(join(local.directory, 's3'));
    expect(existsSync(join(local.directory, 's3', BUCKET))).toBe(true);
  });

  it('stores a string body and returns it unchanged', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'plain/hello.csv', Body: '1,2,3\n4,5,6\n', ContentType: 'text/csv' }),
    );
    const response = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain/hello.csv' }));
    expect(await response.Body!.transformToString()).toBe('1,2,3\n4,5,6\n');
    expect(response.ContentType).toBe('text/csv');
  });

  it('stores a streamed body without aws-chunked framing', async () => {
    const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => `${i % 3},${i * 0.5},${i * 2}\n`).join(''));
    const chunks = [payload.subarray(0, 1000), payload.subarray(1000, 40000), payload.subarray(40000)];
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'stream/data.csv',
        Body: Readable.from(chunks),
        ContentLength: payload.length,
      }),
    );
    expect((await getBytes('stream/data.csv')).equals(payload)).toBe(true);
  });

  it('round-trips keys with spaces, plus signs and unicode byte for byte', async () => {
    const keys = [
      'odd keys/with space.csv',
      'odd keys/a+b=c.csv',
      'odd keys/ünïcødé-数据-🚀.csv',
      'odd keys/100% & more?.csv',
    ];
    for (const [index, key] of keys.entries()) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from([index, 0xff, 0x00, 0x80]) }));
    }
    for (const [index, key] of keys.entries()) {
      expect((await getBytes(key)).equals(Buffer.from([index, 0xff, 0x00, 0x80]))).toBe(true);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'odd keys/' }));
    expect(listed.Contents!.map((o) => o.Key).sort()).toEqual([...keys].sort());
    for (const key of keys) expect((await waitForEvent(key)).key).toBe(key);
  });

  it('lists objects in key order with prefix and delimiter', async () => {
    for (const key of ['list/b.csv', 'list/a.csv', 'list/sub/c.csv']) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
    }
    const flat = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/' }));
    expect(flat.Contents!.map((o) => o.Key)).toEqual(['list/a.csv', 'list/b.csv', 'list/sub/c.csv']);
    const grouped = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', Delimiter: '/' }));
    expect(grouped.Contents!.map((o) => o.Key)).toEqual(['list/a.csv', 'list/b.csv']);
    expect(grouped.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['list/sub/']);
  });

  it('reports NoSuchKey and NoSuchBucket by name', async () => {
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing.csv' }))).rejects.toMatchObject({
      name: 'NoSuchKey',
    });
    await expect(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'x' }))).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
  });

  it('emits onObjectCreated for put, copy and multipart uploads with increasing sequencers', async () => {
    created.length = 0;
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'events/put.csv', Body: 'abc' }));
    await s3.send(
      new CopyObjectCommand({ Bucket: 'other-bucket', Key: 'events/copy.csv', CopySource: `${BUCKET}/events/put.csv` }),
    );
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'events/multi part.csv' }));
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'events/multi part.csv',
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: 'xyz',
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'events/multi part.csv',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );

    const putEvent = await waitForEvent('events/put.csv');
    const copyEvent = await waitForEvent('events/copy.csv');
    const multipartEvent = await waitForEvent('events/multi part.csv');
    expect(putEvent).toMatchObject({ bucket: BUCKET, size: 3, etag: put.ETag!.replace(/"/g, '') });
    expect(copyEvent).toMatchObject({ bucket: 'other-bucket', size: 3, etag: putEvent.etag });
    expect(multipartEvent).toMatchObject({ bucket: BUCKET, size: 3 });
    expect(multipartEvent.etag).toMatch(/^[0-9a-f]{32}(-1)?$/);
    const sequencers = [putEvent, copyEvent, multipartEvent].map((e) => e.sequencer);
    expect(sequencers.every((s) => /^[0-9A-F]+$/.test(s))).toBe(true);
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(new Set(sequencers).size).toBe(3);
  });

  it('closes promptly even while a client keeps its connection alive', async () => {
    await withEmulators(startS3({ directory: join(local.directory, 'second'), buckets: ['b'] }), async (other) => {
      // a client of our own: the helper's clients are destroyed before close, this one must stay connected
      const client = new S3Client({ endpoint: other.s3.endpoint, region: 'us-east-1', forcePathStyle: true });
      await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'v' }));
      // close() waiting for the connection would never resolve (the client is destroyed only afterwards).
      await other.s3.close();
      client.destroy();
    });
  });

  it('keeps objects on disk after close and serves them again from the same directory', async () => {
    await withEmulators(startS3({ directory: local.directory, buckets: [BUCKET] }), async (reopened) => {
      const response = await reopened.s3Client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain/hello.csv' }));
      expect(await response.Body!.transformToString()).toBe('1,2,3\n4,5,6\n');
    });
  });

  test('deleting the last object of a "folder" keeps its directory, so a PutObject racing the delete cannot fail', async () => {
    // s3rver itself removed emptied directories, and a concurrent PutObject into them crashed with ENOENT.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'queue/only/ticket-a', Body: 'a' }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'queue/only/ticket-a' }));
    expect(existsSync(join(localS3.directory, BUCKET, 'queue', 'only'))).toBe(true);
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `queue/busy/t-${i}`, Body: 'x' }));
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `queue/busy/t-${i}` }));
      }),
    );
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'queue/', Delimiter: '/' }));
    expect(listed.KeyCount).toBe(0);
    expect(listed.CommonPrefixes).toBeUndefined();
  });
});

describe('conditional writes (If-None-Match: *)', () => {
  test('the first write wins; later and concurrent ones get 412 PreconditionFailed and change nothing', async () => {
    await withEmulators(startS3({ buckets: ['cond'] }), async (local) => {
      const client = local.s3Client();
      const put = (body: string) =>
        client.send(new PutObjectCommand({ Bucket: 'cond', Key: 'runs/r 1/claim.json', Body: body, IfNoneMatch: '*' }));
      const outcomes = await Promise.allSettled([put('a'), put('b'), put('c')]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes.filter((o) => o.status === 'rejected')) {
        expect((o as PromiseRejectedResult).reason.$metadata.httpStatusCode).toBe(412);
      }
      await expect(put('d')).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
      const stored = await client.send(new GetObjectCommand({ Bucket: 'cond', Key: 'runs/r 1/claim.json' }));
      expect(['a', 'b', 'c']).toContain(await stored.Body!.transformToString());
    });
  });
});
