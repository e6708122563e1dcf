import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3ClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { STAGE_ENV } from '../../src/config/stage';

/** The Lambda environment serverless.yml gives every function, for handler tests. */
export function setStageEnv(overrides: Record<string, string> = {}): void {
  Object.assign(process.env, {
    [STAGE_ENV.dataBucket]: 'knn-pipeline-dev-data',
    [STAGE_ENV.namePrefix]: 'knnp-dev',
    [STAGE_ENV.knnImage]: '382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1',
    [STAGE_ENV.sageMakerRoleArn]: 'arn:aws:iam::123456789012:role/knn-pipeline-dev-sagemaker',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...overrides,
  });
}

/** A GetObject body as the SDK returns it (only the method our adapters use). */
export function body(content: string | Uint8Array) {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  // Read whole (transformToByteArray) or streamed in two chunks, as the SDK's stream body allows both.
  const streamed = async function* () {
    yield bytes.subarray(0, bytes.length >> 1);
    yield bytes.subarray(bytes.length >> 1);
  };
  return {
    transformToByteArray: async () => bytes,
    [Symbol.asyncIterator]: streamed,
  } as GetObjectCommandOutput['Body'];
}

export function notFound() {
  return Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
}

/** mockClient(S3Client) */
export type S3Mock = AwsStub<ServiceInputTypes, ServiceOutputTypes, S3ClientResolvedConfig>;

/** A handler event fixture from events/handlers/ (what the state machine or EventBridge passes), read fresh. */
export function handlerEvent<T>(name: string): T {
  return JSON.parse(readFileSync(path.resolve(__dirname, '../../events/handlers', `${name}.json`), 'utf8')) as T;
}

/**
 * An execution input fixture from events/ (what the console, `serverless invoke stepf --path` or an EventBridge rule
 * starts the state machine with, which Prepare receives as `input`), read fresh.
 */
export function executionInput<T>(name: string): T {
  return JSON.parse(readFileSync(path.resolve(__dirname, '../../events', `${name}.json`), 'utf8')) as T;
}

/** Answers GetObject and HeadObject from `objects` (key → text) like a bucket; other keys answer 404 NoSuchKey. */
export function serveObjects(s3: S3Mock, objects: Record<string, string | Uint8Array>): void {
  const missing = () => Object.assign(notFound(), { name: 'NoSuchKey' });
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    if (!(input.Key in objects)) throw missing();
    return { Body: body(objects[input.Key]) };
  });
  s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
    if (!(input.Key in objects)) throw notFound();
    const content = objects[input.Key];
    return { ContentLength: typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength };
  });
}

/** Every PutObject input so far, in call order. */
export function putInputs(s3: S3Mock) {
  // Streamed writes (lib-storage) send Buffers: shown as text, like the string bodies.
  return s3.commandCalls(PutObjectCommand).map((call) => {
    const input = call.args[0].input;
    return Buffer.isBuffer(input.Body) ? { ...input, Body: input.Body.toString('utf8') } : input;
  });
}
