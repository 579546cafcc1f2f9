/**
 * What a loopback sink received, in order, with a way to wait for a matching item that
 * may not have arrived yet. Shared by the SMTP and telemetry sinks.
 */
export interface Collector<T> {
  items: T[]
  push(item: T): void
  waitFor(match: (item: T) => boolean, timeoutMs: number, what: string): Promise<T>
}

export function createCollector<T>(): Collector<T> {
  const items: T[] = []
  const waiters = new Set<() => void>()
  return {
    items,
    push(item) {
      items.push(item)
      for (const wake of waiters) wake()
    },
    waitFor(match, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = items.find(match)
          if (!found) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no matching ${what} within ${timeoutMs} ms (${items.length} received)`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
  }
}
