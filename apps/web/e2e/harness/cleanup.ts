/**
 * What has been started, to stop in reverse order: all of it, even when one step fails
 * (a server that will not stop must not leave the database and the others behind).
 */
export class Cleanup {
  #steps: Array<() => unknown> = []

  defer(step: () => unknown): void {
    this.#steps.push(step)
  }

  async run(): Promise<void> {
    const errors: unknown[] = []
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step()
      } catch (error) {
        errors.push(error)
      }
    }
    if (errors.length === 1) throw errors[0]
    if (errors.length > 1) throw new AggregateError(errors, 'stopping the stack failed')
  }
}

/**
 * Starts a stack and a browser side by side, like Promise.all, except that when one fails
 * the other (if it started) is stopped before the error is thrown: nothing is left behind
 * for an afterAll that never got either.
 */
export async function startedTogether<
  A extends { stop(): Promise<void> },
  B extends { close(): Promise<void> },
>(stack: Promise<A>, browser: Promise<B>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([stack, browser])
  if (a.status === 'fulfilled' && b.status === 'fulfilled') return [a.value, b.value]
  await Promise.allSettled([
    a.status === 'fulfilled' ? a.value.stop() : undefined,
    b.status === 'fulfilled' ? b.value.close() : undefined,
  ])
  throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason
}

/** Closes the browser and stops the stack: the stack even when closing the browser fails. */
export async function stopTogether(
  stack: { stop(): Promise<void> } | undefined,
  browser: { close(): Promise<void> } | undefined,
): Promise<void> {
  try {
    await browser?.close()
  } finally {
    await stack?.stop()
  }
}
