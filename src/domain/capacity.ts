// Waiting for SageMaker capacity: the fair queue's ticket keys, the backoff, the event budget and the error codes.

/** The quotas a run's SageMaker jobs and endpoints count against (instances per instance type). */
export type CapacityScope = 'training' | 'endpoint' | 'transform';

/** One request for instances: the resource a Task is about to create and what it needs. */
export interface CapacityClaim {
  scope: CapacityScope;
  /** The training job, endpoint or transform job name (derived from the run id). */
  resource: string;
  instanceType: string;
  instanceCount: number;
  /**
   * A tuning job: it runs up to this many training jobs at once, each of instanceCount instances, all counted
   * against the training quota (its resource is the tuning job's name).
   */
  parallelJobs?: number;
}

/** How long and how often a run waits for capacity; decided in Prepare from the stage's settings and time budget. */
export interface CapacitySettings {
  /** The longest one claim waits for its instances before the run fails (after the time budget). */
  maxQueueSeconds: number;
  /** First backoff interval; doubles per poll up to maxDelaySeconds, with jitter. */
  initialDelaySeconds: number;
  maxDelaySeconds: number;
  /** Polls one claim may make, so the execution's history stays within 25,000 events. */
  maxPolls: number;
  /** Where the fair queue's tickets live in the data bucket. */
  queuePrefix: string;
}

/** Where a claim stands; the state machine carries it between polls as `$.capacity`. */
export interface ClaimProgress {
  /** When the claim joined the queue (epoch ms) and when it gives up. */
  enqueuedAt?: number;
  deadline?: number;
  polls?: number;
  throttles?: number;
  /** The quota's value, once a refused create has named it. */
  limit?: number;
  /** The Catch output of the last create that failed (ResourceLimitExceeded or throttling). */
  lastError?: { Error?: string; Cause?: string };
}

export type CapacityDecision =
  | { decision: 'create'; waitSeconds: number }
  | { decision: 'wait'; waitSeconds: number }
  | { decision: 'fail'; error: string; cause: string };

/** The service-quota name SageMaker's ResourceLimitExceeded message quotes. */
export function quotaName(scope: CapacityScope, instanceType: string): string {
  const usage = { training: 'training job', endpoint: 'endpoint', transform: 'transform job' }[scope];
  return `${instanceType} for ${usage} usage`;
}

/**
 * A Standard workflow's history holds at most 25,000 events. One poll costs at most this many: the capacity Task
 * (5), its Choice (2), the Wait (2), and on a refused create the Task (5) and the error Choice (2), rounded up.
 */
export const EVENTS_PER_POLL = 20;
/** History events left for waiting after the rest of a run (~300 events with 20 folds, the serving loop, cleanup). */
export const HISTORY_EVENTS_FOR_WAITING = 22_000;

/** Polls one claim may make when a run has `claims` of them, so that every claim can use all of its polls. */
export function maxPollsPerClaim(claims: number): number {
  return Math.max(1, Math.floor(HISTORY_EVENTS_FOR_WAITING / EVENTS_PER_POLL / Math.max(1, claims)));
}

/**
 * The wait before the next poll: exponential from initialDelaySeconds to maxDelaySeconds with equal jitter (half
 * fixed, half random, so polls of a burst spread out), and never shorter than maxQueueSeconds / maxPolls, so the
 * claim's polls last until its deadline.
 */
export function nextWaitSeconds(polls: number, settings: CapacitySettings, random: () => number = Math.random): number {
  const interval = Math.min(settings.maxDelaySeconds, settings.initialDelaySeconds * 2 ** Math.min(polls, 30));
  const jittered = interval / 2 + random() * (interval / 2);
  const floor = settings.maxQueueSeconds / settings.maxPolls;
  return Math.max(1, Math.ceil(Math.max(jittered, floor)));
}

/** Short retries for API throttling (SageMaker's own TPS limits): 1, 2, 4, 8, 16 s with jitter, then give up. */
export const MAX_THROTTLED_RETRIES = 5;
export function throttledWaitSeconds(throttles: number, random: () => number = Math.random): number {
  const interval = 2 ** Math.min(throttles, 4);
  return Math.max(1, Math.ceil(interval / 2 + random() * (interval / 2)));
}

/**
 * The optimized integration reports ResourceLimitExceeded as SageMaker.ResourceLimitExceededException, and
 * throttling and permanent errors alike as SageMaker.AmazonSageMakerException: the error code is in the Cause.
 */
export function classifySageMakerError(error: {
  Error?: string;
  Cause?: string;
}): 'capacity' | 'throttled' | 'permanent' {
  const code = /Error Code: ([A-Za-z]+)/.exec(error.Cause ?? '')?.[1];
  if (error.Error === 'SageMaker.ResourceLimitExceededException' || code === 'ResourceLimitExceeded') return 'capacity';
  // Another run's update holds the serving endpoint: it is free again when that update ends.
  if (/Cannot update in-progress endpoint/.test(error.Cause ?? '')) return 'capacity';
  if (code && ['ThrottlingException', 'Throttling', 'ServiceUnavailable', 'InternalFailure'].includes(code))
    return 'throttled';
  return 'permanent';
}

/** From "… is N Instances, with current utilization of U Instances and a request delta of D Instances". */
export function parseLimitExceeded(
  cause: string | undefined,
): { limit: number; current: number; delta: number } | undefined {
  const match =
    /is (\d+) Instances, with current utilization of (\d+) Instances and a request delta of (\d+) Instances/.exec(
      cause ?? '',
    );
  return match ? { limit: Number(match[1]), current: Number(match[2]), delta: Number(match[3]) } : undefined;
}

/** Hours, minutes or seconds, the way a person says it ("6 h", "90 min", "45 s"). */
export function spokenDuration(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export const NO_CAPACITY = 'NoCapacity';
export const QUOTA_TOO_LOW = 'QuotaTooLow';

export function noCapacityCause(claim: CapacityClaim, waitedSeconds: number, limit: number | undefined): string {
  const quota = limit === undefined ? 'quota unknown (no create was refused yet)' : `quota ${limit}`;
  return `no ${claim.scope} capacity for ${claim.instanceType} within ${spokenDuration(waitedSeconds)}; ${quota} ('${quotaName(claim.scope, claim.instanceType)}'). ${claim.resource} was not created; raise the quota in Service Quotas or upload fewer datasets at once`;
}

export function quotaTooLowCause(claim: CapacityClaim, limit: number, delta: number): string {
  const parallel =
    claim.parallelJobs && claim.parallelJobs > 1
      ? ` (${claim.parallelJobs} training jobs at once of ${claim.instanceCount} each)`
      : '';
  const fewer = parallel ? 'lower tuning.maxParallelJobs, or use' : 'use';
  return `${claim.resource} needs ${delta} × ${claim.instanceType}${parallel}, and the account's quota '${quotaName(claim.scope, claim.instanceType)}' is ${limit} Instances: waiting cannot help. Raise the quota in Service Quotas (service SageMaker) or ${fewer} fewer or other instances`;
}

/**
 * A ticket's key orders the queue: the time the claim joined (zero-padded epoch ms), then run id and resource,
 * so a newcomer always sorts after everyone already waiting. The deadline is in the key so a waiter can skip a
 * ticket whose owner must have given up (a crashed run the janitor has not released yet) without reading it.
 */
export function ticketKey(
  settings: Pick<CapacitySettings, 'queuePrefix'>,
  claim: CapacityClaim,
  ticket: Ticket,
): string {
  return `${queueOf(settings, claim)}${String(ticket.enqueuedAt).padStart(15, '0')}~${String(ticket.deadline).padStart(15, '0')}~${ticket.runId}~${claim.resource}`;
}

/** One queue per quota: scope and instance type. */
export function queueOf(
  settings: Pick<CapacitySettings, 'queuePrefix'>,
  claim: Pick<CapacityClaim, 'scope' | 'instanceType'>,
): string {
  return `${settings.queuePrefix}${claim.scope}/${claim.instanceType}/`;
}

export interface Ticket {
  enqueuedAt: number;
  deadline: number;
  runId: string;
  resource: string;
}

export function parseTicketKey(key: string): Ticket | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const [enqueuedAt, deadline, runId, resource] = name.split('~');
  if (!resource) return undefined;
  return { enqueuedAt: Number(enqueuedAt), deadline: Number(deadline), runId, resource };
}

/** A ticket is stale once its owner must have given up: it would have failed at its deadline and released it. */
export const STALE_TICKET_GRACE_MS = 10 * 60 * 1000;
export function isStale(ticket: Ticket, now: number): boolean {
  return now > ticket.deadline + STALE_TICKET_GRACE_MS;
}
