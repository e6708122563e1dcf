// Instance usage of a run for the cost section, from its configuration and its execution path.
import type { CostInput, ExecutionStep } from './types';

/** The endpoint exists from CreateEndpoint until the cleanup state has deleted it. */
const ENDPOINT_CREATED_IN = 'CreateEndpoint';
const ENDPOINT_DELETED_IN = new Set(['CleanUp', 'CleanUpAfterFailure']);

/** Seconds from entering CreateEndpoint to leaving cleanup (summed state durations), or null if either is missing. */
export function endpointLifetimeSeconds(steps: ExecutionStep[] | undefined): number | null {
  if (!steps) return null;
  const first = steps.findIndex((step) => step.state === ENDPOINT_CREATED_IN);
  const last = steps.findLastIndex((step) => ENDPOINT_DELETED_IN.has(step.state));
  if (first === -1 || last < first) return null;
  const milliseconds = steps.slice(first, last + 1).reduce((sum, step) => sum + (step.durationMs ?? 0), 0);
  return Math.round(milliseconds / 100) / 10;
}

/** The instance parts of RunConfig (run.training, run.hosting) that cost money. */
export interface RunInstances {
  training: { instanceType: string; instanceCount: number };
  hosting: { instanceType: string; instanceCount: number };
}

export function costFromRun(
  run: RunInstances,
  billableSeconds: number | null | undefined,
  executionPath?: ExecutionStep[],
): CostInput {
  return {
    training: {
      instanceType: run.training.instanceType,
      instanceCount: run.training.instanceCount,
      seconds: billableSeconds ?? null,
    },
    endpoint: {
      instanceType: run.hosting.instanceType,
      instanceCount: run.hosting.instanceCount,
      seconds: endpointLifetimeSeconds(executionPath),
    },
  };
}
