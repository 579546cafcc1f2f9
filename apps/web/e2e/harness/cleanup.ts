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
