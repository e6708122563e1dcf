// An order-of-magnitude cost of one run: instance-seconds times a small, dated list-price table.
import type { CostInput, InstanceUsage } from './types';

/** Same price for training and real-time hosting for these types; anything else is shown in seconds only. */
export const INSTANCE_PRICES = {
  description: 'approximate Amazon SageMaker on-demand list prices, us-east-1, USD per instance-hour, as of 2025-01',
  usdPerHour: {
    'ml.t2.medium': 0.056,
    'ml.m5.large': 0.115,
    'ml.m5.xlarge': 0.23,
    'ml.m5.2xlarge': 0.461,
    'ml.m5.4xlarge': 0.922,
    'ml.c5.large': 0.102,
    'ml.c5.xlarge': 0.204,
    'ml.c5.2xlarge': 0.408,
    'ml.c5.4xlarge': 0.816,
    'ml.g4dn.xlarge': 0.736,
    'ml.p3.2xlarge': 3.825,
  } as Readonly<Record<string, number>>,
};

export interface CostLine {
  use: 'training' | 'endpoint';
  instanceType: string;
  instanceCount: number;
  seconds: number | null;
  instanceSeconds: number | null;
  usdPerHour: number | null;
  usd: number | null;
}

export interface CostEstimate {
  lines: CostLine[];
  /** null unless every line could be priced. */
  totalUsd: number | null;
}

function costLine(use: CostLine['use'], usage: InstanceUsage): CostLine {
  const usdPerHour = INSTANCE_PRICES.usdPerHour[usage.instanceType] ?? null;
  const instanceSeconds = usage.seconds === null ? null : usage.seconds * usage.instanceCount;
  const usd = usdPerHour === null || instanceSeconds === null ? null : (instanceSeconds / 3600) * usdPerHour;
  return {
    use,
    instanceType: usage.instanceType,
    instanceCount: usage.instanceCount,
    seconds: usage.seconds,
    instanceSeconds,
    usdPerHour,
    usd,
  };
}

export function estimateCost(cost: CostInput): CostEstimate {
  const lines = [costLine('training', cost.training), ...(cost.endpoint ? [costLine('endpoint', cost.endpoint)] : [])];
  const priced = lines.every((line) => line.usd !== null);
  return { lines, totalUsd: priced ? lines.reduce((sum, line) => sum + (line.usd ?? 0), 0) : null };
}
