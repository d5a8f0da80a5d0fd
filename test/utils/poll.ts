// Waiting in tests for something that happens asynchronously (a connection, a gossip message, a duty done).

/** Polls `cond` every 25 ms until it holds; rejects naming `what` after `timeoutMs` (a bound for a broken test). */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
