import type { GateResult } from './evaluation';

export type PromotionDecision = 'create' | 'promote' | 'keep' | 'gate-failed' | 'off';

export interface ChampionState {
  /** Status of the stable endpoint, or undefined when there is none yet. */
  status?: string;
  configName?: string;
  /** The champion's value of the gate metric on this run's test rows (fresh evaluation), when it could be measured. */
  value?: number | null;
  /** Why the champion cannot score this run's test rows at all (it was trained on other feature columns). */
  incomparable?: string;
}

export interface Promotion {
  decision: PromotionDecision;
  reason: string;
  metric: string;
  candidate: number | null;
  champion: number | null;
  servingEndpoint?: string;
  previousConfig?: string;
}

/**
 * Whether this run's model should serve: it must pass the gate and be at least as good as the model behind the
 * stable endpoint on the same test rows, by the gate's metric and direction. Ties promote (the newer model wins).
 */
export function decidePromotion(
  enabled: boolean,
  gate: GateResult,
  champion: ChampionState,
  servingEndpoint: string,
): Promotion {
  const base = {
    metric: gate.metric,
    candidate: gate.value,
    champion: champion.value ?? null,
    servingEndpoint,
    previousConfig: champion.configName,
  };
  if (!enabled)
    return { ...base, decision: 'off', reason: 'Serving mode is off: the model was evaluated and deleted.' };
  if (!gate.passed)
    return { ...base, decision: 'gate-failed', reason: `Not promoted: the quality gate failed (${gate.message})` };
  if (champion.status === undefined) {
    return {
      ...base,
      decision: 'create',
      reason: `First promotion: ${servingEndpoint} does not exist yet and is created with this model.`,
    };
  }
  if (champion.status === 'InService' && champion.incomparable !== undefined) {
    return {
      ...base,
      decision: 'promote',
      reason: `Promoted: ${champion.incomparable}, so the two cannot be compared on the same rows; the quality gate alone decides, and it passed.`,
    };
  }
  if (champion.status !== 'InService' || champion.value === undefined || champion.value === null) {
    return {
      ...base,
      decision: 'keep',
      reason: `Not promoted: ${servingEndpoint} is ${champion.status} and could not be compared; the current model keeps serving.`,
    };
  }
  const better = gate.direction === 'min' ? gate.value! >= champion.value : gate.value! <= champion.value;
  const comparison = `${gate.metric} ${gate.value} vs ${champion.value} for the current model on the same ${'test rows'}`;
  return better
    ? { ...base, decision: 'promote', reason: `Promoted: ${comparison}.` }
    : { ...base, decision: 'keep', reason: `Kept the champion: ${comparison}; the current model is better.` };
}

/** What DescribeEndpoint says about an endpoint (undefined when it does not exist). */
export interface EndpointState {
  status: string;
  configName?: string;
  /** The config an update is deploying (PendingDeploymentSummary), while it deploys. */
  pendingConfigName?: string;
  failureReason?: string;
}

export type PromotionOutcome = 'promoted' | 'superseded' | 'rolled-back' | 'failed' | 'not-settled';

/** How a promotion ended, and what must be cleaned up because of it. */
export interface PromotionVerdict {
  outcome: PromotionOutcome;
  /** false when the run's model did not end up serving although it should have. */
  succeeded: boolean;
  message: string;
  servingEndpoint: string;
  servingConfig?: string;
  previousConfig?: string;
  /** Prune superseded serving configs, keeping `keep` (only once this run's config serves). */
  prune?: { namePrefix: string; currentConfig: string; keep: number };
  /** Delete this run's serving config: it never went live. */
  deleteRunConfig: boolean;
  /** Delete the stable endpoint: its first creation failed, so it never served anyone. */
  deleteStableEndpoint: boolean;
}

interface PromotedRun {
  serve: { endpointName: string; endpointConfigName: string; keep: number };
  names: { model: string };
}

/**
 * After the stable endpoint was created or updated with this run's config: which config really serves (SageMaker
 * rolls a failed update back to the previous config), what to report, and what to delete.
 */
export function promotionOutcome(
  state: EndpointState | undefined,
  run: PromotedRun,
  promotion: Pick<Promotion, 'reason' | 'previousConfig'>,
  namePrefix: string,
): PromotionVerdict {
  const endpointName = run.serve.endpointName;
  const ours = run.serve.endpointConfigName;
  const base = {
    servingEndpoint: endpointName,
    previousConfig: promotion.previousConfig,
    deleteRunConfig: false,
    deleteStableEndpoint: false,
  };
  if (state?.status === 'InService' && state.configName === ours) {
    return {
      ...base,
      outcome: 'promoted',
      succeeded: true,
      servingConfig: ours,
      prune: { namePrefix, currentConfig: ours, keep: run.serve.keep },
      message: `${promotion.reason} ${endpointName} now serves ${run.names.model} (config ${ours})`,
    };
  }
  // Promotions queue for the stable endpoint: a later run's update may already have replaced ours. A failed update
  // says why (FailureReason) and goes back to what served before it, so neither sign means a rollback.
  if (state?.status === 'InService' && !state.failureReason && state.configName !== promotion.previousConfig) {
    return {
      ...base,
      outcome: 'superseded',
      succeeded: true,
      servingConfig: state.configName,
      message: `${promotion.reason} ${endpointName} served ${run.names.model} (config ${ours}) until a later promotion replaced it; it now serves ${state.configName}.`,
    };
  }
  if (state?.status === 'InService') {
    return {
      ...base,
      outcome: 'rolled-back',
      succeeded: false,
      servingConfig: state.configName,
      deleteRunConfig: true,
      message: `Promotion rolled back: updating ${endpointName} to ${ours} failed (${state.failureReason ?? 'no reason given'}); it still serves ${state.configName}.`,
    };
  }
  if (state === undefined || state.status === 'Failed') {
    return {
      ...base,
      outcome: 'failed',
      succeeded: false,
      deleteRunConfig: true,
      deleteStableEndpoint: state !== undefined,
      message: `Creating ${endpointName} with ${ours} failed (${state?.failureReason ?? 'endpoint missing'}); no model is serving. Fix the cause and start a new run.`,
    };
  }
  return {
    ...base,
    outcome: 'not-settled',
    succeeded: false,
    servingConfig: state.configName,
    message: `${endpointName} is still ${state.status} after the wait; check it in the console before promoting again.`,
  };
}

/** The promoted message completed with what pruning kept for rollback and deleted. */
export function promotedMessage(message: string, pruned: { retained: unknown[]; deleted: unknown[] }): string {
  return `${message}; kept ${pruned.retained.length} config(s) for rollback, deleted ${pruned.deleted.length}.`;
}
