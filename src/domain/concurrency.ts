/**
 * `work` over the items with at most `limit` in flight, results yielded in the items' order. Reads the next item only
 * when a slot is free, so at most `limit` items (and one result being consumed) are held at a time.
 */
export async function* mapOrdered<T, R>(
  items: AsyncIterable<T>,
  limit: number,
  work: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight: Promise<R>[] = [];
  for await (const item of items) {
    const result = work(item);
    // Awaited in order below; a later failure while an earlier one is thrown must not go unhandled.
    result.catch(() => undefined);
    inFlight.push(result);
    if (inFlight.length >= limit) yield await inFlight.shift()!;
  }
  while (inFlight.length) yield await inFlight.shift()!;
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
