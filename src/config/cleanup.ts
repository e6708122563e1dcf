import { ConfigurationError } from '../errors';
import { memoiseOnEnv, type Env } from './env';

/** How long cleanup waits for an in-progress endpoint to settle, and how often it looks (Cleanup, Promote, Janitor). */
export interface CleanupTimings {
  settleTimeoutMs: number;
  pollMs: number;
}

export const CLEANUP_ENV = { settleTimeoutMs: 'CLEANUP_SETTLE_TIMEOUT_MS', pollMs: 'CLEANUP_POLL_MS' } as const;

function milliseconds(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new ConfigurationError(`Environment variable ${name} has an invalid value "${raw}"`);
  return value;
}

export function cleanupTimingsFromEnv(env: Env = process.env): CleanupTimings {
  return {
    settleTimeoutMs: milliseconds(env, CLEANUP_ENV.settleTimeoutMs, 240_000),
    pollMs: milliseconds(env, CLEANUP_ENV.pollMs, 5_000),
  };
}

/** The cleanup timings of this Lambda environment, parsed once per cold start. */
export const cleanupTimings = memoiseOnEnv(Object.values(CLEANUP_ENV), cleanupTimingsFromEnv);
