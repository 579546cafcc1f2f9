/**
 * Polls `check` until it returns true, or throws naming `what` after `timeoutMs`. For
 * hooks, where vitest's expect.poll is not available, and for waits on a process that may
 * die: `gaveUp` returns why waiting is pointless (it ends the wait at once), and `detail`
 * adds what helps to read the failure (a log's last lines).
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  {
    what,
    timeoutMs = 15_000,
    intervalMs = 100,
    gaveUp,
    detail,
  }: {
    what: string
    timeoutMs?: number
    intervalMs?: number
    gaveUp?: () => string | undefined
    detail?: () => string
  },
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return
    const reason = gaveUp?.() ?? (Date.now() > deadline ? `timed out after ${timeoutMs} ms` : '')
    if (reason) throw new Error(`${reason} waiting for ${what}${detail ? `:\n${detail()}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** True when GET `url` answers with `status`. */
export async function answers(url: string, status = 200): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined)
  return res?.status === status
}
