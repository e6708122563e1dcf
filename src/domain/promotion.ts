import type { GateResult } from './evaluation';

export type PromotionDecision = 'create' | 'promote' | 'keep' | 'gate-failed' | 'off';

export interface ChampionState {
  /** Status of the stable endpoint, or undefined when there is none yet. */
  status?: string;
  configName?: string;
  /** The champion's value of the gate metric on this run's test rows (fresh evaluation), when it could be measured. */
  value?: number | null;
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
