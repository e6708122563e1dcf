// Reading executions through the Step Functions API: which one RUN means, its history, what Prepare decided.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { detectTrigger, type RunConfig, type TriggerType } from '../../src/domain/runConfig';
import { CliError } from './io';
import { executionArnFor } from './names';
import type { Target } from './target';

export type Execution = DescribeExecutionCommandOutput;

function isNotFound(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === 'ExecutionDoesNotExist' || name === 'NoSuchKey' || name === 'NotFound';
}

export async function describeExecution(target: Target, executionArn: string): Promise<Execution> {
  return target.sfn.send(new DescribeExecutionCommand({ executionArn }));
}

/** RUN as people type it: an execution ARN, an execution name, or a run id (found through the run's claim in S3). */
export async function resolveExecution(target: Target, run: string): Promise<Execution> {
  if (run.startsWith('arn:')) {
    try {
      return await describeExecution(target, run);
    } catch (error) {
      if (isNotFound(error)) throw new CliError(`No execution ${run}`);
      throw error;
    }
  }
  try {
    return await describeExecution(target, executionArnFor(target.stateMachineArn, run));
  } catch (error) {
    if (!isNotFound(error) && (error as Error).name !== 'InvalidArn') throw error;
  }
  const claimKey = `${target.runsPrefix}${run}/claim.json`;
  try {
    const claim = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: claimKey }));
    const { executionName } = JSON.parse(await claim.Body!.transformToString()) as { executionName: string };
    return await describeExecution(target, executionArnFor(target.stateMachineArn, executionName));
  } catch (error) {
    if (!isNotFound(error) && (error as Error).name !== 'InvalidArn') throw error;
  }
  throw new CliError(
    `No execution named "${run}" in ${target.description}, and no run with that id (s3://${target.bucket}/${claimKey}). ` +
      `List recent ones with: npx knn-pipeline runs ${target.flags}`,
  );
}

/** Every event, oldest first (all pages). */
export async function executionHistory(target: Target, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await target.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The newest events only (one small page, newest first): enough to tell a running execution's current state. */
export async function latestEvents(target: Target, executionArn: string, count = 10): Promise<HistoryEvent[]> {
  const page = await target.sfn.send(
    new GetExecutionHistoryCommand({ executionArn, maxResults: count, reverseOrder: true }),
  );
  return page.events ?? [];
}

/** The oldest events (one page): Prepare's result, the run configuration, is among the first few. */
export async function earliestEvents(target: Target, executionArn: string, count = 25): Promise<HistoryEvent[]> {
  const page = await target.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: count }));
  return page.events ?? [];
}

/** What a state passed on when it first ended (parsed), or undefined before it ended or when it failed. */
export function stateOutput<T>(events: HistoryEvent[], stateName: string): T | undefined {
  for (const event of events) {
    const exited = event.stateExitedEventDetails;
    if (exited?.name === stateName && exited.output) return JSON.parse(exited.output) as T;
  }
  return undefined;
}

/** The run configuration Prepare produced (names, S3 keys), or undefined before Prepare finished or when it failed. */
export function runConfigFromHistory(events: HistoryEvent[]): RunConfig | undefined {
  return stateOutput<{ run?: RunConfig }>(events, 'Prepare')?.run;
}

// State visits are read the same way by the Report function: one implementation in src/aws/executions.ts.
export { stateVisits, type StateVisit } from '../../src/aws/executions';

/** The fields of an execution input the CLI reads: an S3 Object Created event's object, a console input's dataset. */
export interface ExecutionInputFields {
  source?: string;
  detail?: { object?: { key?: string; etag?: string; 'version-id'?: string } };
  dataset?: { key?: string };
}

/** The execution's input (any of the three triggers' shapes), or undefined when it is not a JSON object. */
export function parseInput(execution: Execution): ExecutionInputFields | undefined {
  try {
    const input: unknown = JSON.parse(execution.input ?? '{}');
    return input && typeof input === 'object' ? (input as ExecutionInputFields) : undefined;
  } catch {
    return undefined;
  }
}

export function triggerOf(execution: Execution): TriggerType {
  return detectTrigger(parseInput(execution));
}

/** The dataset an execution was started on, as its input says (console and schedule may leave it to the stage). */
export function datasetOf(execution: Execution): string {
  const input = parseInput(execution);
  switch (triggerOf(execution)) {
    case 's3':
      return input?.detail?.object?.key ?? '';
    case 'schedule':
      return '(stage default)';
    default:
      return input?.dataset?.key ?? '(stage default)';
  }
}

export function durationMs(execution: Execution, now = Date.now()): number {
  return (execution.stopDate?.getTime() ?? now) - (execution.startDate?.getTime() ?? now);
}
