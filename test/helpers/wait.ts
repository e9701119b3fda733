// Waiting on a condition instead of sleeping: poll it until true, fail with a message after a
// bounded time. Tests assert on conditions, never on how long something took.

export interface WaitOptions {
  /** Give up after this long. Milliseconds; default 5000 (the default test timeout is 5 s too). */
  timeout?: number;
  /** Poll period. Milliseconds; default 5. */
  interval?: number;
  /** Named in the failure: what was awaited. */
  what?: string;
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  opts: WaitOptions = {},
): Promise<void> {
  const timeout = opts.timeout ?? 5000;
  const interval = opts.interval ?? 5;
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${opts.what ?? 'a condition'}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
