import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { pacedLoad, percentile } from '../bench/paced-load.ts'

// The offered-load generator of `pnpm bench:api` (ADR 047) is a measuring instrument: these
// check that it offers a rate (requests spread over the second, never sent early) and
// charges a request the time it waited for a connection, which a generator that measures
// from the moment it sends would hide.

const servers: Server[] = []

async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handle)
  servers.push(server)
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/page?limit=1`
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((closed) => server.close(closed))
  }
})

describe('pacedLoad', () => {
  it('sends one request every 1/rate seconds, not a second’s worth at once', async () => {
    const arrivals: number[] = []
    const paths = new Set<string | undefined>()
    const url = await serve((req, res) => {
      arrivals.push(performance.now())
      paths.add(req.url)
      res.end('{}')
    })
    const rate = 200
    const result = await pacedLoad({ url, headers: {}, seconds: 1, rate, connections: 10 })
    expect(result).toMatchObject({ requests: 200, failed: 0 })
    expect([...paths]).toEqual(['/page?limit=1'])
    // A request is never sent before it is due: the last of 200 at 200 a second comes
    // about 995 ms after the first (less whatever the first was late by: connecting).
    const span = (arrivals.at(-1) as number) - (arrivals[0] as number)
    expect(span).toBeGreaterThan((0.8 * (199 * 1000)) / rate)
    // And no 100 ms holds much more than its 20 (a burst would put them all in the first).
    for (const at of arrivals) {
      const inWindow = arrivals.filter((t) => t >= at && t < at + 100).length
      expect(inWindow).toBeLessThanOrEqual(40)
    }
  })

  it('counts the time a request waited for a connection in its latency', async () => {
    let first = true
    const url = await serve((_req, res) => {
      if (first) {
        // The first answer stalls; on one connection, the requests due meanwhile queue.
        first = false
        setTimeout(() => res.end('{}'), 300)
      } else res.end('{}')
    })
    const result = await pacedLoad({ url, headers: {}, seconds: 1, rate: 100, connections: 1 })
    expect(result).toMatchObject({ requests: 100, failed: 0 })
    // About 30 requests were due during the stall, each waiting out the rest of it: the
    // p99 (the second slowest of 100) is one of them. Measured from when each was sent,
    // only the stalled request itself would be slow, and the p99 a millisecond or two.
    expect(result.p99).toBeGreaterThanOrEqual(200)
    expect(result.p50).toBeLessThan(result.p99)
  })

  it('counts answers other than 2xx, and refused connections, as failed', async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 503
      res.end('{}')
    })
    const answered = await pacedLoad({ url, headers: {}, seconds: 0.1, rate: 100, connections: 2 })
    expect(answered).toMatchObject({ requests: 0, failed: 10 })

    const closed = createServer()
    await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening))
    const { port } = closed.address() as AddressInfo
    await new Promise((done) => closed.close(done))
    const refused = await pacedLoad({
      url: `http://127.0.0.1:${port}/`,
      headers: {},
      seconds: 0.1,
      rate: 100,
      connections: 2,
    })
    expect(refused).toMatchObject({ requests: 0, failed: 10 })
  })

  it('refuses a rate or a duration that is not above zero', async () => {
    const options = { url: 'http://127.0.0.1:1/', headers: {}, connections: 1 }
    await expect(pacedLoad({ ...options, seconds: 1, rate: 0 })).rejects.toThrow(RangeError)
    await expect(pacedLoad({ ...options, seconds: 0, rate: 10 })).rejects.toThrow(RangeError)
  })
})

describe('percentile', () => {
  it('answers the nearest-rank value of sorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(values, 0.5)).toBe(50)
    expect(percentile(values, 0.99)).toBe(99)
    expect(percentile(values, 1)).toBe(100)
    expect(percentile([7], 0.99)).toBe(7)
    expect(percentile([], 0.5)).toBeNaN()
  })
})
