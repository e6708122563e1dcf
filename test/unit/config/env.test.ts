import { cleanupTimings, cleanupTimingsFromEnv } from '../../../src/config/cleanup';
import { memoiseOnEnv } from '../../../src/config/env';
import { ConfigurationError, stageDefaults, stageDefaultsFromEnv } from '../../../src/config/stage';

test('parses once while the variables keep their values, again when one of them changes', () => {
  const parse = jest.fn((env: Record<string, string | undefined>) => ({ k: Number(env.KNN_K ?? 1) }));
  const read = memoiseOnEnv(['KNN_K'], parse);
  const env: Record<string, string | undefined> = { KNN_K: '3', OTHER: 'a' };
  const first = read(env);
  expect(read(env)).toBe(first);
  // A variable it does not read changes nothing.
  env.OTHER = 'b';
  expect(read(env)).toBe(first);
  expect(parse).toHaveBeenCalledTimes(1);
  env.KNN_K = '5';
  expect(read(env)).toEqual({ k: 5 });
  delete env.KNN_K;
  expect(read(env)).toEqual({ k: 1 });
  expect(parse).toHaveBeenCalledTimes(3);
});

test('a failed parse is not remembered: it fails again until the environment is fixed', () => {
  const base = { DATA_BUCKET: 'b', NAME_PREFIX: 'p', KNN_IMAGE_URI: 'i', SAGEMAKER_ROLE_ARN: 'r' };
  expect(() => stageDefaults({ ...base, KNN_K: 'three' })).toThrow(ConfigurationError);
  expect(() => stageDefaults({ ...base, KNN_K: 'three' })).toThrow(/KNN_K/);
  const parsed = stageDefaults({ ...base, KNN_K: '3' });
  expect(parsed).toEqual(stageDefaultsFromEnv({ ...base, KNN_K: '3' }));
  expect(stageDefaults({ ...base, KNN_K: '3' })).toBe(parsed);
});

test('cleanup timings: defaults, overrides, and a clear error for a value that is not a number', () => {
  expect(cleanupTimingsFromEnv({})).toEqual({ settleTimeoutMs: 240_000, pollMs: 5_000 });
  expect(cleanupTimings({ CLEANUP_SETTLE_TIMEOUT_MS: '5', CLEANUP_POLL_MS: '1' })).toEqual({
    settleTimeoutMs: 5,
    pollMs: 1,
  });
  expect(() => cleanupTimingsFromEnv({ CLEANUP_POLL_MS: 'soon' })).toThrow(
    new ConfigurationError('Environment variable CLEANUP_POLL_MS has an invalid value "soon"'),
  );
});
