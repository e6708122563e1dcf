import type { EventBridgeEvent } from 'aws-lambda';
import type { Claim } from '../src/artifacts';
import { deleteRunResources, type CleanupReport } from '../src/aws/cleanup';
import { readRunWaits, releaseRunTickets } from '../src/aws/capacityQueue';
import type { CapacityWait } from '../src/artifacts';
import { getObjectJson, headObject } from '../src/aws/objects';
import { publishRunOutcome } from '../src/aws/notifications';
import { cleanupTimings } from '../src/config/cleanup';
import { stageDefaults } from '../src/config/stage';
import { runOutcome, type RunOutcome } from '../src/domain/notification';
import { cleanupScope } from '../src/domain/cleanupScope';
import { resolveRunConfig, type RunConfig } from '../src/domain/runConfig';
import { s3Uri } from '../src/domain/naming';
import { lambdaHandler } from '../src/lambda/handler';
import { logger } from '../src/log/logger';
import { toError } from '../src/errors';

export interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  input?: string | null;
  output?: string | null;
  error?: string | null;
  cause?: string | null;
}

export interface JanitorResult {
  runId?: string;
  cleaned: boolean;
  reason?: string;
  deleted?: CleanupReport;
  notified: boolean;
}

const ENDED_EARLY = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

function parse(text: string | null | undefined): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

async function readIfPresent<T>(bucket: string, key: string): Promise<T | undefined> {
  return (await headObject({ bucket, key })) ? getObjectJson<T>({ bucket, key }) : undefined;
}

/**
 * Runs on every finished execution (EventBridge "Step Functions Execution Status Change"). Stop and timeout bypass
 * the state machine's Catch, so for FAILED / TIMED_OUT / ABORTED it deletes what the run created — recomputing the
 * run's names from the execution input exactly as Prepare did. Then it announces the run's outcome.
 */
export const handler = lambdaHandler(
  async (
    event: EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange>,
  ): Promise<JanitorResult> => {
    const detail = event.detail;
    logger.appendKeys({ executionName: detail.name, status: detail.status });
    const defaults = stageDefaults();
    const output = parse(detail.output) as { duplicate?: boolean } | undefined;
    if (output?.duplicate)
      return { cleaned: false, reason: 'duplicate event: the owning execution reports the run', notified: false };

    let run: RunConfig | undefined;
    try {
      const input = parse(detail.input);
      if (input !== undefined) run = resolveRunConfig(input, { name: detail.name }, defaults);
    } catch (error) {
      logger.info('Execution input was invalid, so the run never created SageMaker resources', {
        error: toError(error),
      });
    }
    if (run) logger.appendKeys({ runId: run.runId });

    const result: JanitorResult = { runId: run?.runId, cleaned: false, notified: false };
    if (!run)
      result.reason =
        detail.input == null ? 'no execution input in the event' : 'invalid execution input: the run created nothing';
    else if (!ENDED_EARLY.has(detail.status)) result.reason = `${detail.status}: the state machine cleaned up itself`;
    else {
      // A duplicate delivery shares the run id of the execution that owns the run: never clean up someone else's run.
      const claim = await readIfPresent<Claim>(run.bucket, run.keys.claim);
      if (claim && claim.executionName !== detail.name) {
        result.reason = `run ${run.runId} belongs to execution ${claim.executionName}`;
      } else {
        result.deleted = await deleteRunResources(run.names, { ...cleanupTimings(), ...cleanupScope(run) });
        await releaseRunTickets(run.bucket, run.capacity.queuePrefix, run.runId);
        result.cleaned = true;
        logger.info('Janitor cleaned up after execution', { ...result.deleted });
      }
    }

    if (defaults.notificationBus) {
      const outcome: RunOutcome = runOutcome(
        detail,
        run?.runId ?? null,
        run ? await readIfPresent(run.bucket, run.keys.metrics) : undefined,
        run ? await readIfPresent(run.bucket, run.keys.serving) : undefined,
        run ? s3Uri(run.bucket, run.keys.metrics) : null,
        run ? await readRunWaits<CapacityWait>(run.bucket, run.keys.root) : [],
      );
      await publishRunOutcome(defaults.notificationBus, outcome);
      result.notified = true;
    }
    return result;
  },
);
