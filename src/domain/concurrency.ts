/** Runs `work` over the items with at most `limit` in flight; results keep the items' order. */
export async function mapWithConcurrency<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * Runs `work`, and again after each delay while it fails with an error `retryable` accepts; the last failure is
 * thrown once the delays are used up.
 */
export async function retrying<R>(
  work: () => Promise<R>,
  retryable: (error: unknown) => boolean,
  delaysMs: readonly number[],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= delaysMs.length || !retryable(error)) throw error;
      await sleep(delaysMs[attempt]);
    }
  }
}
