// Account quotas: concurrent instances per instance type for training jobs, endpoints and transform jobs.
import type { AccountQuotas, Json, LocalSageMakerContext, PeakUsage, QuotaScope } from './context';

export type { AccountQuotas, PeakUsage, QuotaScope } from './context';
import { SageMakerApiError } from './errors';

const QUOTA_KEYS: Record<QuotaScope, keyof AccountQuotas> = {
  'training job': 'trainingJob',
  endpoint: 'endpoint',
  'transform job': 'transformJob',
};

export function emptyPeaks(): PeakUsage {
  return { 'training job': {}, endpoint: {}, 'transform job': {} };
}

export function quotaFor(quotas: AccountQuotas, scope: QuotaScope, instanceType: string): number | undefined {
  const byType = quotas[QUOTA_KEYS[scope]];
  return byType?.[instanceType] ?? byType?.['*'];
}

/** Instances per type a request asks for. */
export type InstanceDemand = Record<string, number>;

function add(demand: InstanceDemand, instanceType: unknown, count: unknown): void {
  if (typeof instanceType !== 'string') return;
  demand[instanceType] = (demand[instanceType] ?? 0) + (typeof count === 'number' ? count : 1);
}

export function trainingDemand(request: Json): InstanceDemand {
  const demand: InstanceDemand = {};
  const resources = request.ResourceConfig as Json | undefined;
  add(demand, resources?.InstanceType, resources?.InstanceCount);
  return demand;
}

/** A tuning job's peak training demand: MaxParallelTrainingJobs jobs of the definition's InstanceCount each. */
export function tuningDemand(request: Json): InstanceDemand {
  const parallel = ((request.HyperParameterTuningJobConfig as Json | undefined)?.ResourceLimits as Json | undefined)
    ?.MaxParallelTrainingJobs;
  const demand = trainingDemand((request.TrainingJobDefinition as Json | undefined) ?? {});
  for (const type of Object.keys(demand)) demand[type] *= typeof parallel === 'number' ? parallel : 1;
  return demand;
}

export function transformDemand(request: Json): InstanceDemand {
  const demand: InstanceDemand = {};
  const resources = request.TransformResources as Json | undefined;
  add(demand, resources?.InstanceType, resources?.InstanceCount);
  return demand;
}

/** Instance variants of an endpoint config (serverless variants have no instances and count against no quota). */
export function endpointDemand(config: Json): InstanceDemand {
  const demand: InstanceDemand = {};
  for (const variant of (config.ProductionVariants as Json[] | undefined) ?? []) {
    add(demand, variant.InstanceType, variant.InitialInstanceCount);
  }
  return demand;
}

/** Instances held right now: running jobs, and endpoints until they are deleted (an update holds both configs). */
export function usage(context: LocalSageMakerContext, scope: QuotaScope): InstanceDemand {
  const total: InstanceDemand = {};
  const merge = (demand: InstanceDemand) => {
    for (const [type, count] of Object.entries(demand)) total[type] = (total[type] ?? 0) + count;
  };
  const running = (status: string) => status === 'InProgress' || status === 'Stopping';
  if (scope === 'training job') {
    for (const job of context.store.trainingJobs.values()) if (running(job.status)) merge(trainingDemand(job.request));
  } else if (scope === 'transform job') {
    for (const job of context.store.transformJobs.values())
      if (running(job.status)) merge(transformDemand(job.request));
  } else {
    for (const endpoint of context.store.endpoints.values()) {
      if (endpoint.status === 'Failed') continue; // a failed endpoint holds no instances
      merge(endpointDemand(endpoint.config));
      if (endpoint.pendingConfig) merge(endpointDemand(endpoint.pendingConfig));
    }
  }
  return total;
}

/**
 * Refuses a request whose instances would take a quota past its value, with SageMaker's ResourceLimitExceeded
 * message (the same text CreateTrainingJob, CreateEndpoint, UpdateEndpoint and CreateTransformJob answer).
 */
export function requireCapacity(context: LocalSageMakerContext, scope: QuotaScope, demand: InstanceDemand): void {
  const inUse = usage(context, scope);
  for (const [instanceType, delta] of Object.entries(demand)) {
    const limit = quotaFor(context.quotas, scope, instanceType);
    if (limit === undefined) continue;
    const current = inUse[instanceType] ?? 0;
    if (current + delta > limit) {
      throw new SageMakerApiError(
        'ResourceLimitExceeded',
        `The account-level service limit '${instanceType} for ${scope} usage' is ${limit} Instances, with current utilization of ${current} Instances and a request delta of ${delta} Instances. Please contact AWS support to request an increase for this limit.`,
      );
    }
  }
}

/** Records the instances in use after a request was accepted, so tests can read the highest concurrency seen. */
export function recordPeak(context: LocalSageMakerContext, scope: QuotaScope): void {
  const peaks = context.peaks[scope];
  for (const [type, count] of Object.entries(usage(context, scope))) peaks[type] = Math.max(peaks[type] ?? 0, count);
}

const SCOPE_FLAGS: Record<string, keyof AccountQuotas> = {
  training: 'trainingJob',
  endpoint: 'endpoint',
  transform: 'transformJob',
};

/**
 * One `--quota` flag, `<training|endpoint|transform>[:<instance type>]=<instances>` (no type: every type), added to
 * the quotas gathered so far (commander's repeatable-option reducer).
 */
export function parseQuotaFlag(flag: string, quotas: AccountQuotas = {}): AccountQuotas {
  const match = /^(training|endpoint|transform)(?::(ml\.[a-z0-9.-]+))?=(\d+)$/.exec(flag.trim());
  if (!match) {
    throw new Error(
      `--quota ${flag}: expected <training|endpoint|transform>[:<instance type>]=<instances>, e.g. training:ml.m5.large=2`,
    );
  }
  const [, scope, instanceType, count] = match;
  const key = SCOPE_FLAGS[scope];
  return { ...quotas, [key]: { ...quotas[key], [instanceType ?? '*']: Number(count) } };
}

export const QUOTA_HELP =
  'an account quota of the local SageMaker, repeatable: training|endpoint|transform[:<instance type>]=<instances> ' +
  '(e.g. training:ml.m5.large=2); none by default';
