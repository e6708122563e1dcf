export type Env = Record<string, string | undefined>;

/**
 * Parses the named environment variables once and reuses the result while they keep their values: on Lambda that is
 * once per cold start; the local cloud, which swaps stage variables in one process, gets a fresh parse per stage.
 */
export function memoiseOnEnv<T>(names: readonly string[], parse: (env: Env) => T): (env?: Env) => T {
  let cached: { key: string; value: T } | undefined;
  return (env = process.env) => {
    const key = JSON.stringify(names.map((name) => env[name] ?? null));
    if (cached?.key !== key) cached = { key, value: parse(env) };
    return cached.value;
  };
}
