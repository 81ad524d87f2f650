/**
 * A read shared by the gauges of one scrape: they are collected one after another, so the first
 * starts it and the rest of that scrape use its answer; the next scrape reads again. A failed
 * read is reported and answers null (the gauges leave their series out: no stale value).
 */
export function onePerScrape<T>(read: () => Promise<T>, onError?: (error: Error) => void): () => Promise<T | null> {
  let pending: Promise<T | null> | undefined;
  return () =>
    (pending ??= read()
      .catch((error: Error) => {
        onError?.(error);
        return null;
      })
      .finally(() => setImmediate(() => (pending = undefined))));
}
