import { claimAdmitted, deleteKey, listKeys, putJson, putTicket } from '../src/aws/capacityQueue';
import type { CapacityWait } from '../src/artifacts';
import {
  classifySageMakerError,
  isStale,
  MAX_THROTTLED_RETRIES,
  nextWaitSeconds,
  NO_CAPACITY,
  noCapacityCause,
  parseLimitExceeded,
  parseTicketKey,
  QUOTA_TOO_LOW,
  queueOf,
  quotaName,
  quotaTooLowCause,
  throttledWaitSeconds,
  ticketKey,
  type CapacityClaim,
  type CapacityDecision,
  type ClaimProgress,
} from '../src/domain/capacity';
import { capacityWaitKey } from '../src/domain/naming';
import type { RunConfig } from '../src/domain/runConfig';
import { lambdaHandler } from '../src/lambda/handler';
import { logger } from '../src/log/logger';

export interface CapacityEvent {
  run: Pick<RunConfig, 'runId' | 'bucket' | 'keys' | 'capacity'>;
  claim: CapacityClaim;
  /** `$.capacity`: this handler's previous answer (empty on the first poll), plus a failed create's error. */
  progress: ClaimProgress;
  /**
   * A resource of this run deleted since its claim (the evaluation endpoint, given back before promotion): its ticket
   * is done, and would otherwise wait for a resource that will never exist again.
   */
  released?: string;
}

export type CapacityResult = CapacityDecision &
  Required<Pick<ClaimProgress, 'enqueuedAt' | 'deadline' | 'polls' | 'throttles'>> & {
    quota: string;
    limit?: number;
    ahead: number;
  };

/**
 * One poll of the fair capacity queue for a claim (a training job, endpoint or transform job about to be created):
 * join the queue, then answer `create` when every claim that joined earlier has got its instances, `wait` (with the
 * backoff) otherwise, `fail` at the deadline, or at once when the request alone exceeds the quota. After a refused
 * create (ResourceLimitExceeded, or throttling) it answers `wait` with the matching backoff.
 */
export const handler = lambdaHandler(
  async ({ run, claim, progress, released }: CapacityEvent): Promise<CapacityResult> => {
    logger.appendKeys({ runId: run.runId, resource: claim.resource });
    const settings = run.capacity;
    const now = Date.now();
    const state = {
      enqueuedAt: progress.enqueuedAt ?? now,
      deadline: progress.deadline ?? now + settings.maxQueueSeconds * 1000,
      polls: progress.polls ?? 0,
      throttles: progress.throttles ?? 0,
    };
    const refused = progress.lastError ? parseLimitExceeded(progress.lastError.Cause) : undefined;
    const limit = refused?.limit ?? progress.limit;
    const key = ticketKey(settings, claim, { ...state, runId: run.runId, resource: claim.resource });
    const quota = quotaName(claim.scope, claim.instanceType);
    const answer = async (
      decision: CapacityDecision,
      ahead: number,
      status: CapacityWait['status'],
    ): Promise<CapacityResult> => {
      if (decision.decision === 'fail') await deleteKey(run.bucket, key);
      const record: CapacityWait = {
        scope: claim.scope,
        resource: claim.resource,
        quota,
        ...(limit !== undefined ? { limit } : {}),
        status,
        enqueuedAt: new Date(state.enqueuedAt).toISOString(),
        updatedAt: new Date(now).toISOString(),
        waitedSeconds: Math.round((now - state.enqueuedAt) / 1000),
        polls: state.polls,
        ahead,
      };
      await putJson({ bucket: run.bucket, key: capacityWaitKey(run.keys, claim.resource) }, record);
      logger.info('Capacity poll', { ...record, decision: decision.decision });
      return { ...decision, ...state, quota, ...(limit !== undefined ? { limit } : {}), ahead };
    };

    if (progress.lastError) {
      const kind = classifySageMakerError(progress.lastError);
      if (kind === 'throttled') {
        state.throttles += 1;
        if (state.throttles > MAX_THROTTLED_RETRIES) {
          const error = progress.lastError.Error ?? 'SageMaker.AmazonSageMakerException';
          return answer({ decision: 'fail', error, cause: progress.lastError.Cause ?? error }, 0, 'gave-up');
        }
        return answer({ decision: 'wait', waitSeconds: throttledWaitSeconds(state.throttles) }, 0, 'admitted');
      }
      if (refused && refused.delta > refused.limit) {
        const cause = quotaTooLowCause(claim, refused.limit, refused.delta);
        return answer({ decision: 'fail', error: QUOTA_TOO_LOW, cause }, 0, 'gave-up');
      }
      // Capacity: the claim keeps its place at the head of its queue and tries again after the backoff.
      state.polls += 1;
      return answer({ decision: 'wait', waitSeconds: nextWaitSeconds(state.polls, settings) }, 0, 'waiting');
    }

    if (state.polls >= settings.maxPolls || now >= state.deadline) {
      const cause = noCapacityCause(claim, Math.round((now - state.enqueuedAt) / 1000), limit);
      return answer({ decision: 'fail', error: NO_CAPACITY, cause }, 0, 'gave-up');
    }
    const joining = progress.enqueuedAt === undefined;
    if (joining) await putTicket(run.bucket, key);
    let keys = await listKeys(run.bucket, queueOf(settings, claim));
    if (joining) {
      // A run makes one claim per resource at a time, so its earlier ticket for this resource is a finished claim
      // (a serving create that lost the race and now updates), as is the ticket of a resource it gave back.
      const finished = [claim.resource, ...(released !== undefined ? [released] : [])].map(
        (resource) => `~${run.runId}~${resource}`,
      );
      const done = keys.filter((other) => other !== key && finished.some((end) => other.endsWith(end)));
      await Promise.all(done.map((other) => deleteKey(run.bucket, other)));
      keys = keys.filter((other) => !done.includes(other));
    }

    // Admitted when no live ticket sorts before ours. A ticket ahead whose resource exists has got its instances (its
    // owner keeps the ticket until it is gone, since .sync cannot release it in between): drop it and look further.
    const position = keys.includes(key) ? keys.indexOf(key) : keys.length;
    let dropped = 0;
    for (const other of keys.slice(0, position)) {
      const ticket = parseTicketKey(other);
      if (ticket && !isStale(ticket, now) && !(await claimAdmitted(claim.scope, ticket))) break;
      await deleteKey(run.bucket, other);
      dropped += 1;
    }
    const ahead = position - dropped;
    state.polls += 1;
    if (ahead === 0)
      return answer({ decision: 'create', waitSeconds: nextWaitSeconds(state.polls, settings) }, 0, 'admitted');
    return answer({ decision: 'wait', waitSeconds: nextWaitSeconds(state.polls, settings) }, ahead, 'waiting');
  },
);
