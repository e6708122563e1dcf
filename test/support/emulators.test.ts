/** The emulator helper's promise: `stop` (and `withEmulators`, however its body ends) leaves nothing behind. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ListModelsCommand } from '@aws-sdk/client-sagemaker';
import { startS3, startSageMaker, withEmulators } from './emulators';

const refused = (endpoint: string) => expect(fetch(endpoint)).rejects.toThrow();

test('stop closes S3 and SageMaker and removes the temporary directory', async () => {
  const local = await startSageMaker({ buckets: ['b'] });
  expect((await local.s3Client().send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(['b']);
  expect((await local.sageMakerClient().send(new ListModelsCommand({}))).Models).toEqual([]);
  expect(existsSync(local.directory)).toBe(true);
  await local.stop();
  expect(existsSync(local.directory)).toBe(false);
  await refused(local.s3.endpoint);
  await refused(local.sageMaker.endpoint);
});

test('withEmulators stops them when the body throws, and passes the error on', async () => {
  let endpoint = '';
  let directory = '';
  const run = withEmulators(startS3({ buckets: ['b'] }), async (local) => {
    ({ endpoint } = local.s3);
    ({ directory } = local);
    throw new Error('the body failed');
  });
  await expect(run).rejects.toThrow('the body failed');
  expect(existsSync(directory)).toBe(false);
  await refused(endpoint);
});

test('a SageMaker on a shared S3 leaves that S3 running; a given directory is kept', async () => {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'emulators-test-'));
  try {
    await withEmulators(startS3({ directory, buckets: ['b'] }), async (shared) => {
      await withEmulators(startSageMaker({ s3: shared.s3 }), async () => undefined);
      expect((await shared.s3Client().send(new ListBucketsCommand({}))).Buckets).toHaveLength(1);
    });
    expect(existsSync(path.join(directory, 's3', 'b'))).toBe(true);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
