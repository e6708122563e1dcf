/**
 * Starting the local emulators in tests — the whole cloud, or only S3, or S3 + SageMaker — each in a temporary
 * directory, and stopping everything again (clients, servers, directory) however the test ends.
 *
 * - `useEmulators(() => startX(...))` starts in `beforeAll` and stops in `afterAll` of the enclosing describe/file;
 * - `withEmulators(startX(...), async (running) => ...)` starts for one test body and stops when it returns or throws.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient, type SageMakerClientConfig } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import { LocalCloud, type LocalCloudOptions } from '../../local/cloud';
import { startLocalS3, type LocalS3 } from '../../local/s3';
import { startLocalSageMaker, type LocalSageMaker, type LocalSageMakerOptions } from '../../local/sagemaker';
import { resetClients } from '../../src/aws/clients';

const REGION = 'us-east-1';

/** What every start function returns: something `stop` tears down completely. */
export interface Running {
  /** The temporary directory the emulators keep their data in (S3 under `s3/`, SageMaker logs under `logs/`). */
  directory: string;
  stop(): Promise<void>;
}

export interface RunningS3 extends Running {
  s3: LocalS3;
  /** A path-style S3 client for this S3, destroyed by `stop`. */
  s3Client(): S3Client;
}

export interface RunningSageMaker extends RunningS3 {
  sageMaker: LocalSageMaker;
  /** A SageMaker control-plane client for this SageMaker (e.g. `{ maxAttempts: 1 }`), destroyed by `stop`. */
  sageMakerClient(config?: SageMakerClientConfig): SageMakerClient;
  /** A SageMaker runtime client for this SageMaker's endpoints, destroyed by `stop`. */
  runtimeClient(config?: SageMakerRuntimeClientConfig): SageMakerRuntimeClient;
}

export interface RunningCloud extends Running {
  cloud: LocalCloud;
}

export interface S3Options {
  buckets: string[];
  /** Keep the data under this directory (not removed by `stop`) instead of a fresh temporary one. */
  directory?: string;
}

export interface SageMakerOptions extends Omit<LocalSageMakerOptions, 's3Endpoint' | 'logDirectory'> {
  /** Buckets of the S3 started alongside (ignored with `s3`). */
  buckets?: string[];
  /** Use this already running S3 instead of starting one (and leave it running at `stop`). */
  s3?: LocalS3;
}

/** The whole local cloud (S3, SageMaker, EventBridge, Step Functions) as `npm start` runs it. */
export function startCloud(options: Partial<LocalCloudOptions> = {}): Promise<RunningCloud> {
  return starting('knn-cloud-', undefined, async (directory, teardown) => {
    const cloud = await LocalCloud.start({ directory, ...options });
    teardown.add(() => cloud.close());
    return { cloud };
  });
}

/** A local S3 alone. */
export function startS3(options: S3Options): Promise<RunningS3> {
  return starting('local-s3-', options.directory, async (directory, teardown) => {
    const s3 = await startLocalS3({ directory: path.join(directory, 's3'), buckets: options.buckets });
    teardown.add(() => s3.close());
    return { s3, s3Client: s3ClientFactory(s3, teardown) };
  });
}

/** A local SageMaker (control plane and runtime) reading and writing a local S3. */
export function startSageMaker(options: SageMakerOptions = {}): Promise<RunningSageMaker> {
  const { buckets = [], s3: shared, ...sageMakerOptions } = options;
  return starting('local-sagemaker-', undefined, async (directory, teardown) => {
    let s3 = shared;
    if (!s3) {
      const started = await startLocalS3({ directory: path.join(directory, 's3'), buckets });
      teardown.add(() => started.close());
      s3 = started;
    }
    const sageMaker = await startLocalSageMaker({
      ...sageMakerOptions,
      s3Endpoint: s3.endpoint,
      logDirectory: path.join(directory, 'logs'),
    });
    teardown.add(() => sageMaker.close());
    const clientOptions = { endpoint: sageMaker.endpoint, region: REGION };
    return {
      s3,
      s3Client: s3ClientFactory(s3, teardown),
      sageMaker,
      sageMakerClient: (config = {}) => teardown.client(new SageMakerClient({ ...clientOptions, ...config })),
      runtimeClient: (config = {}) => teardown.client(new SageMakerRuntimeClient({ ...clientOptions, ...config })),
    };
  });
}

/**
 * Starts the emulators in `beforeAll` and stops them in `afterAll` of the enclosing describe (or file). The returned
 * object is filled in by `beforeAll`, so read it inside tests and hooks, not at the top level.
 */
export function useEmulators<T extends Running>(start: () => Promise<T>): T {
  const handle = {} as T;
  let running: T | undefined;
  beforeAll(async () => {
    running = await start();
    Object.assign(handle, running);
  });
  afterAll(async () => {
    await running?.stop();
  });
  return handle;
}

/** Runs `body` with emulators started for it alone and stops them afterwards, whether `body` returns or throws. */
export async function withEmulators<T extends Running, R>(start: Promise<T>, body: (running: T) => Promise<R>) {
  const running = await start;
  try {
    return await body(running);
  } finally {
    await running.stop();
  }
}

/** Undoes what a start function did, last first; every step runs even when an earlier one fails. */
class Teardown {
  private readonly steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.steps.push(step);
  }

  /** Registers an SDK client so that `stop` destroys it (open sockets would keep Jest from exiting). */
  client<C extends { destroy(): void }>(client: C): C {
    this.add(() => client.destroy());
    return client;
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

function s3ClientFactory(s3: LocalS3, teardown: Teardown): () => S3Client {
  return () =>
    teardown.client(
      new S3Client({
        endpoint: s3.endpoint,
        region: REGION,
        forcePathStyle: true, // 127.0.0.1 has no bucket subdomains
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      }),
    );
}

/** Runs `start` in `directory` (or a fresh temporary one, removed at `stop`); a failed start undoes what it began. */
async function starting<T extends object>(
  prefix: string,
  directory: string | undefined,
  start: (directory: string, teardown: Teardown) => Promise<T>,
): Promise<T & Running> {
  const teardown = new Teardown();
  const root = directory ?? mkdtempSync(path.join(os.tmpdir(), prefix));
  if (directory === undefined) teardown.add(() => rmSync(root, { recursive: true, force: true }));
  try {
    const started = await start(root, teardown);
    return { ...started, directory: root, stop: () => teardown.run() };
  } catch (error) {
    await teardown.run().catch(() => undefined); // the start error is the one worth reporting
    throw error;
  }
}

/**
 * Points the product's SDK clients (src/aws/clients.ts) at the local S3 that `useEmulators` starts, for the tests of
 * the enclosing describe (or file), and back afterwards.
 */
export function useLocalS3ForProductCode(running: RunningS3): void {
  beforeAll(() => {
    process.env.AWS_ENDPOINT_URL_S3 = running.s3.endpoint;
    resetClients();
  });
  afterAll(() => {
    delete process.env.AWS_ENDPOINT_URL_S3;
    resetClients();
  });
}
