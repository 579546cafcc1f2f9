// An offered load for `pnpm bench:api`: requests sent at a constant rate, the way a
// service's callers send them, with latency counted from when each was due (ADR 047).
//
// autocannon's `overallRate` does not offer a rate: each connection sends its share of a
// second's requests back to back, as fast as the answers come, then waits for the next
// second, so a server meets a burst at full load every second; and its correction for
// coordinated omission takes the expected interval between requests as
// `Math.ceil(1 / rate)` milliseconds (1 ms for any rate above one a second per connection),
// so an answer of L ms is recorded with L-1, L-2, ... 1 ms beside it: L values in all.
// Both inflate the p99 of whatever answers slowest, and the full-load rows (autocannon,
// closed loop) already measure saturation. This measures the other question: at a rate
// the server sustains, how long a request takes.

import { Pool } from 'undici'

export interface PacedResult {
  /** Answered requests per second, from the first request due to the last answer. */
  reqPerSec: number
  /** Milliseconds from when a request was due to its whole answer read. */
  p50: number
  p99: number
  /** Requests answered with a 2xx. */
  requests: number
  /** Errors and answers other than 2xx. */
  failed: number
}

/** The value below which `fraction` of the sorted values lie (nearest rank). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil(fraction * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number
}

/**
 * GETs `url` at `rate` requests a second for `seconds`, over at most `connections`
 * keep-alive connections. Request i is due at start + i / rate whatever became of the
 * ones before it (an open model): one that finds every connection busy waits in the
 * client's queue, and that wait counts in its latency, as it would for a caller. A server
 * that cannot keep up therefore shows a growing latency, not a lower rate.
 */
export async function pacedLoad(options: {
  url: string
  headers: Record<string, string>
  seconds: number
  rate: number
  connections: number
}): Promise<PacedResult> {
  const { url, headers, seconds, rate, connections } = options
  if (!(rate > 0) || !(seconds > 0))
    throw new RangeError('pacedLoad needs a rate and seconds above 0')
  const target = new URL(url)
  const pool = new Pool(target.origin, { connections, pipelining: 1 })
  const path = `${target.pathname}${target.search}`
  const total = Math.max(1, Math.round(seconds * rate))
  const intervalMs = 1000 / rate
  const latencies: number[] = []
  let failed = 0
  let lastAnswer = 0

  // undici's dispatch, not request: no body stream per answer, so the generator's own CPU
  // (on the cores the servers use) stays near autocannon's.
  const send = (due: number) =>
    new Promise<void>((settled) => {
      let status = 0
      const done = (ok: boolean) => {
        if (ok && status >= 200 && status < 300) latencies.push(performance.now() - due)
        else failed++
        lastAnswer = Math.max(lastAnswer, performance.now())
        settled()
      }
      pool.dispatch(
        { method: 'GET', path, headers },
        {
          onRequestStart() {},
          onResponseStart(_controller, statusCode) {
            status = statusCode
          },
          // Every byte of the answer is read, and none kept.
          onResponseData() {},
          onResponseEnd: () => done(true),
          onResponseError: () => done(false),
        },
      )
    })

  const start = performance.now()
  const pending: Promise<void>[] = []
  let next = 0
  try {
    while (next < total) {
      // Everything due by now goes out, so a late timer sends a few at once, each still
      // charged from when it was due.
      const now = performance.now()
      while (next < total && start + next * intervalMs <= now) {
        pending.push(send(start + next * intervalMs))
        next++
      }
      if (next < total) {
        const wait = start + next * intervalMs - performance.now()
        await new Promise((done) => setTimeout(done, Math.max(0, wait)))
      }
    }
    await Promise.all(pending)
  } finally {
    await pool.close()
  }
  latencies.sort((a, b) => a - b)
  return {
    reqPerSec: latencies.length === 0 ? 0 : latencies.length / ((lastAnswer - start) / 1000),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    requests: latencies.length,
    failed,
  }
}
