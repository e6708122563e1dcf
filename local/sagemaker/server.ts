// Local SageMaker: control plane + runtime on one 127.0.0.1 port, training and serving the k-NN in-process.
import { createServer } from 'node:http';
import { listenOnLoopback } from '../listen';
import { mkdirSync } from 'node:fs';
import {
  DEFAULT_TIMING,
  ResourceStore,
  Scheduler,
  type LocalSageMakerContext,
  type LocalSageMakerTiming,
} from './context';
import { FaultInjectorImpl, type FaultInjector } from './faults';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Authorizer } from '../iam/authorizer';
import { credentialsFor } from '../iam/principals';
import { createContainerS3Client } from './s3Io';
import { createRequestHandler } from './router';
import { emptyPeaks, type AccountQuotas, type PeakUsage } from './quotas';

export type { LocalSageMakerTiming } from './context';
export type { FaultInjector, InjectedFault } from './faults';
export type { AccountQuotas, PeakUsage } from './quotas';

export interface LocalSageMakerOptions {
  port?: number;
  /** Where training jobs read channels / write model.tar.gz and endpoints read it (e.g. LocalS3.endpoint). */
  s3Endpoint: string;
  region?: string;
  accountId?: string;
  timing?: Partial<LocalSageMakerTiming>;
  /** When set, training logs are also written to `<logDirectory>/TrainingJobs/<job>.log`. */
  logDirectory?: string;
  /** Seed for the k-NN sampler when the train channel has no ShuffleConfig.Seed (default 0: reproducible runs). */
  defaultSeed?: number;
  /**
   * IAM enforcement (local/iam): callers are authorised against the template, and training jobs and endpoints reach
   * S3 with the credentials of the role they were given (RoleArn / ExecutionRoleArn).
   */
  authorizer?: Authorizer;
  /**
   * Account quotas: concurrent instances per instance type for training jobs, endpoints and transform jobs
   * (e.g. `{ trainingJob: { 'ml.m5.large': 2 } }`). None by default: the local account has unlimited capacity.
   */
  quotas?: AccountQuotas;
}

export interface LocalSageMaker {
  endpoint: string;
  close(): Promise<void>;
  trainingJobLog(name: string): string[];
  /** A transform job's data log (`<time>:[sagemaker logs]: <bucket>/<key>: …`). */
  transformJobLog(name: string): string[];
  listResources(): {
    trainingJobs: string[];
    transformJobs: string[];
    models: string[];
    endpointConfigs: string[];
    endpoints: string[];
  };
  faults: FaultInjector;
  /** The highest number of instances in use at once per quota and instance type since start. */
  peakUsage(): PeakUsage;
}

export async function startLocalSageMaker(options: LocalSageMakerOptions): Promise<LocalSageMaker> {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  if (options.logDirectory) mkdirSync(options.logDirectory, { recursive: true });
  const context: LocalSageMakerContext = {
    region,
    accountId: options.accountId ?? '123456789012',
    timing: { ...DEFAULT_TIMING, ...options.timing },
    store: new ResourceStore(),
    scheduler: new Scheduler(),
    faults: new FaultInjectorImpl(),
    s3: createContainerS3Client(options.s3Endpoint, region),
    logDirectory: options.logDirectory,
    defaultSeed: options.defaultSeed ?? 0,
    authorizer: options.authorizer,
    quotas: options.quotas ?? {},
    peaks: emptyPeaks(),
  };
  const roleClients = new Map<string, S3Client>();
  if (options.authorizer) {
    const authorizer = options.authorizer;
    context.s3ForRole = (roleArn) => {
      let client = roleClients.get(roleArn);
      if (!client) {
        // Only roles SageMaker may assume get this far (checked at CreateTrainingJob / CreateModel); any other role
        // has no credentials the local S3 accepts.
        const principal = authorizer.principalForRole(roleArn);
        const credentials = principal
          ? credentialsFor(principal)
          : { accessKeyId: 'ASIANOTASSUMABLE', secretAccessKey: 'none' };
        client = createContainerS3Client(options.s3Endpoint, region, credentials);
        roleClients.set(roleArn, client);
      }
      return client;
    };
  }

  const server = createServer(createRequestHandler(context));
  const port = await listenOnLoopback(server, options.port);

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    faults: context.faults,
    peakUsage: () => structuredClone(context.peaks),
    trainingJobLog: (name) => [...(context.store.trainingJobs.get(name.toLowerCase())?.log ?? [])],
    transformJobLog: (name) => [...(context.store.transformJobs.get(name.toLowerCase())?.log ?? [])],
    listResources: () => ({
      trainingJobs: [...context.store.trainingJobs.values()].map((job) => job.name),
      transformJobs: [...context.store.transformJobs.values()].map((job) => job.name),
      models: [...context.store.models.values()].map((model) => model.name),
      endpointConfigs: [...context.store.endpointConfigs.values()].map((config) => config.name),
      endpoints: [...context.store.endpoints.values()].map((endpoint) => endpoint.name),
    }),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        context.scheduler.close(); // pending transitions and training steps never run after close
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive sockets of SDK clients would otherwise hold close() open
      }).finally(() => {
        context.s3.destroy();
        for (const client of roleClients.values()) client.destroy();
      });
      return closing;
    },
  };
}
