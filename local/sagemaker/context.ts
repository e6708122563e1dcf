// Shared state of one local SageMaker: resources, timing, timers and the S3 client the "containers" use.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Authorizer } from '../iam/authorizer';
import type { FaultInjectorImpl } from './faults';

export interface LocalSageMakerTiming {
  trainingStartDelayMs: number;
  endpointCreateDelayMs: number;
  endpointDeleteDelayMs: number;
  stopDelayMs: number;
  /** Delay before a transform job starts reading its input (InProgress meanwhile). */
  transformStartDelayMs: number;
  /** How long a serverless endpoint's container may take to answer (AWS: 1 minute). */
  serverlessInvocationTimeoutMs: number;
}

export const DEFAULT_TIMING: LocalSageMakerTiming = {
  trainingStartDelayMs: 100,
  endpointCreateDelayMs: 150,
  endpointDeleteDelayMs: 100,
  stopDelayMs: 100,
  transformStartDelayMs: 100,
  serverlessInvocationTimeoutMs: 60_000,
};

/** The three usage quotas SageMaker keeps per instance type (Service Quotas, service code `sagemaker`). */
export type QuotaScope = 'training job' | 'endpoint' | 'transform job';

/** Instances allowed at once per instance type; `'*'` applies to every type not named. No entry: no quota. */
export type InstanceQuota = Record<string, number>;

export interface AccountQuotas {
  trainingJob?: InstanceQuota;
  endpoint?: InstanceQuota;
  transformJob?: InstanceQuota;
}

/** The highest number of instances in use at once, per scope and instance type, since the local SageMaker started. */
export type PeakUsage = Record<QuotaScope, Record<string, number>>;

export type Json = Record<string, unknown>;
export type Tag = { Key: string; Value: string };

export interface StatusTransition {
  Status: string;
  StartTime: Date;
  EndTime?: Date;
  StatusMessage?: string;
}

export type TrainingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface TrainingJobRecord {
  name: string;
  arn: string;
  request: Json;
  status: TrainingJobStatus;
  secondaryStatus: string;
  transitions: StatusTransition[];
  creationTime: Date;
  lastModifiedTime: Date;
  trainingStartTime?: Date;
  trainingEndTime?: Date;
  failureReason?: string;
  finalMetrics?: { MetricName: string; Value: number; Timestamp: Date }[];
  modelArtifactUri?: string;
  /** Set by failNextTrainingJobs: the job fails with this reason instead of training. */
  injectedFailure?: string;
  log: string[];
  /** Set when a hyperparameter tuning job launched this job. */
  tuningJobArn?: string;
}

export type TuningJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface TuningJobRecord {
  name: string;
  arn: string;
  request: Json;
  status: TuningJobStatus;
  creationTime: Date;
  lastModifiedTime: Date;
  endTime?: Date;
  failureReason?: string;
  /** The hyperparameter combinations to run, in launch order. */
  plan: Record<string, string>[];
  /** Launched training jobs, in launch order, with the tuned hyperparameters each got. */
  trainingJobs: { name: string; tuned: Record<string, string> }[];
}

export type TransformJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface TransformJobRecord {
  name: string;
  arn: string;
  request: Json;
  /** The model's CreateModel request as it was at CreateTransformJob time. */
  model: Json;
  status: TransformJobStatus;
  creationTime: Date;
  lastModifiedTime: Date;
  transformStartTime?: Date;
  transformEndTime?: Date;
  failureReason?: string;
  /** Set by failNextTransformJobs: the job fails with this reason instead of running. */
  injectedFailure?: string;
  log: string[];
}

export interface ModelRecord {
  name: string;
  arn: string;
  request: Json;
  creationTime: Date;
}

export interface EndpointConfigRecord {
  name: string;
  arn: string;
  request: Json;
  creationTime: Date;
}

export type EndpointStatus = 'Creating' | 'Updating' | 'InService' | 'Deleting' | 'Failed';

export interface EndpointRecord {
  name: string;
  arn: string;
  configName: string;
  /** Snapshot of the config at CreateEndpoint time: later config changes don't affect a deployed endpoint. */
  config: Json;
  status: EndpointStatus;
  creationTime: Date;
  lastModifiedTime: Date;
  failureReason?: string;
  injectedFailure?: string;
  /** Loaded models per variant name, set once InService. */
  deployedVariants?: DeployedVariant[];
  /** While Updating: the new config, whose instances run beside the old ones until the switch (blue/green). */
  pendingConfig?: Json;
}

export interface ServerlessConfig {
  MemorySizeInMB: number;
  MaxConcurrency: number;
  ProvisionedConcurrency?: number;
}

export interface DeployedVariant {
  variantName: string;
  weight: number;
  instanceCount: number;
  /** Set for a serverless variant (no instances): its limits apply to InvokeEndpoint. */
  serverless?: ServerlessConfig;
  image: string;
  model: unknown;
  featureDim: number;
  deployedAt: Date;
}

/** Resource maps are keyed by lower-cased name: names map to lower-cased ARNs, so uniqueness is case-insensitive. */
export class ResourceStore {
  readonly trainingJobs = new Map<string, TrainingJobRecord>();
  readonly transformJobs = new Map<string, TransformJobRecord>();
  readonly tuningJobs = new Map<string, TuningJobRecord>();
  readonly models = new Map<string, ModelRecord>();
  readonly endpointConfigs = new Map<string, EndpointConfigRecord>();
  readonly endpoints = new Map<string, EndpointRecord>();
  readonly tagsByArn = new Map<string, Tag[]>();
  /** Invocations being answered, per serverless endpoint variant (its MaxConcurrency). */
  readonly invocationsInFlight = new Map<string, number>();
}

export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  /** Runs `task` after `ms`; errors are routed to `onError` so a background task never crashes the process. */
  after(ms: number, task: () => unknown, onError: (error: unknown) => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      Promise.resolve().then(task).catch(onError);
    }, ms);
    this.timers.add(timer);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve, () => undefined));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

export interface LocalSageMakerContext {
  region: string;
  accountId: string;
  timing: LocalSageMakerTiming;
  store: ResourceStore;
  scheduler: Scheduler;
  faults: FaultInjectorImpl;
  s3: S3Client;
  /** IAM enforcement (local/iam); every request is allowed without it. */
  authorizer?: Authorizer;
  /** With IAM: the S3 client of the role a training job or model acts with (its RoleArn / ExecutionRoleArn). */
  s3ForRole?: (roleArn: string) => S3Client;
  logDirectory?: string;
  /** Seed handed to the k-NN trainer when the train channel has no ShuffleConfig.Seed. */
  defaultSeed: number;
  /** Account quotas (instances per type); none by default. */
  quotas: AccountQuotas;
  /** The highest instance usage seen per quota, for tests. */
  peaks: PeakUsage;
}

export type ResourceKind =
  'training-job' | 'transform-job' | 'hyper-parameter-tuning-job' | 'model' | 'endpoint-config' | 'endpoint';

export function resourceArn(
  context: Pick<LocalSageMakerContext, 'region' | 'accountId'>,
  kind: ResourceKind,
  name: string,
): string {
  return `arn:aws:sagemaker:${context.region}:${context.accountId}:${kind}/${name.toLowerCase()}`;
}

/** JSON 1.1 puts timestamps on the wire as epoch seconds. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}
