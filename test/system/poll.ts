/** Thrown from a polled function to stop polling at once (the awaited thing can no longer happen). */
export class GiveUp extends Error {}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns something other than null/undefined/false, or throws when the deadline
 * passes, naming what was awaited and the last value or error seen.
 */
export async function poll<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== null && v !== undefined && v !== false) return v;
      last = `last result: ${String(v)}`;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = `last error: ${(err as Error).message}`;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
    await sleep(everyMs);
  }
}
