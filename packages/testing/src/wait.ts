/**
 * Polls `check` until it returns true, or throws naming `what` after `timeoutMs`. For
 * hooks, where vitest's expect.poll is not available.
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  {
    what,
    timeoutMs = 15_000,
    intervalMs = 100,
  }: { what: string; timeoutMs?: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** True when GET `url` answers with `status`. */
export async function answers(url: string, status = 200): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined)
  return res?.status === status
}
