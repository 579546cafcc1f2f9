import type { AddressInfo } from 'node:net'
import {
  type Exposition,
  metricsContract,
  scrapeMetrics,
  seriesOf,
  startGatedPort,
  UNBOUNDED_LABEL_VALUE,
  useIsolatedServices,
} from '@repo/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestServer, signUpOwner } from './helpers.ts'

// The API's Prometheus metrics, scraped over HTTP from the real metrics server: the
// contract's names and labels (infra/monitoring/metrics.json), route patterns instead of
// URLs, bounded cardinality, and a port of its own that the public one does not serve.
const services = useIsolatedServices()
let server: FastifyInstance
let api = ''
let metricsUrl = ''

const scrape = () => scrapeMetrics(metricsUrl)
const metricsPort = (app: FastifyInstance) => app.metricsServer?.port as number

beforeAll(async () => {
  const { database, redis } = services()
  server = await buildTestServer({
    DATABASE_URL: database.appUrl,
    REDIS_URL: redis.url,
    METRICS_ENABLED: 'true',
    METRICS_PORT: '0',
    DATABASE_POOL_MAX: '7',
    APP_VERSION: '1.2.3',
    GIT_COMMIT: 'abc1234',
    // Low enough that a handful of sign-ins from one address is refused.
    AUTH_RATE_LIMIT_PER_MINUTE: '4',
  })
  await server.listen({ host: '127.0.0.1', port: 0 })
  api = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`
  metricsUrl = `http://127.0.0.1:${metricsPort(server)}/metrics`
})
afterAll(() => server?.close())

const value = (exposition: Exposition, name: string, labels: Record<string, string>) =>
  exposition.samples.find(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, expected]) => sample.labels[key] === expected),
  )?.value

describe('api metrics', () => {
  it('exposes every metric of the contract with exactly its labels', async () => {
    // Something of everything: requests, refused and failed sign-ins, readiness, queries.
    const { headers, orgId } = await signUpOwner(server)
    await fetch(`${api}/v1/orgs/${orgId}/projects`, { headers })
    await fetch(`${api}/readyz`)
    const email = `nobody-${crypto.randomUUID()}@example.com`
    for (let i = 0; i < 5; i++)
      await fetch(`${api}/v1/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
        body: JSON.stringify({ email, password: 'wrong password, surely' }),
      })

    const exposition = await scrape()
    for (const metric of metricsContract('api')) {
      expect(exposition.types.get(metric.name), metric.name).toBe(metric.type)
      const series = seriesOf(exposition, metric.name)
      expect(series.length, `${metric.name} has series`).toBeGreaterThan(0)
      for (const labels of series)
        expect(Object.keys(labels).sort(), metric.name).toEqual(
          [...metric.labels, 'service'].sort(),
        )
    }
    for (const sample of exposition.samples) expect(sample.labels.service).toBe('api')

    expect(value(exposition, 'app_build_info', { version: '1.2.3', commit: 'abc1234' })).toBe(1)
    expect(value(exposition, 'readiness_status', { dependency: 'postgres' })).toBe(1)
    expect(value(exposition, 'readiness_status', { dependency: 'redis' })).toBe(1)
    expect(value(exposition, 'db_pool_max_connections', { pool: 'app' })).toBe(7)
    expect(
      value(exposition, 'db_pool_connections', { pool: 'app', state: 'total' }),
    ).toBeGreaterThan(0)
    expect(
      value(exposition, 'auth_sign_in_failures_total', { reason: 'bad_credentials' }),
    ).toBeGreaterThanOrEqual(4)
    expect(value(exposition, 'auth_sign_in_failures_total', { reason: 'rate_limited' })).toBe(1)
    expect(value(exposition, 'rate_limit_rejections_total', { limit: 'ip' })).toBe(1)
    // The rate limiter and sessions went to Redis; each command's round trip was timed.
    const redis = seriesOf(exposition, 'redis_command_duration_seconds').map((s) => s.command)
    expect(redis.length).toBeGreaterThan(0)
    for (const command of redis) expect(command).toMatch(/^[a-z]+$/)
    expect(value(exposition, 'nodejs_eventloop_lag_p99_seconds', {})).toBeGreaterThanOrEqual(0)
  })

  it('labels requests with the route pattern, never the URL', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const created = await fetch(`${api}/v1/orgs/${orgId}/projects`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Metrics' }),
    })
    const project = (await created.json()) as { id: string }
    expect(
      (await fetch(`${api}/v1/orgs/${orgId}/projects/${project.id}`, { headers })).status,
    ).toBe(200)

    const series = seriesOf(await scrape(), 'http_request_duration_seconds')
    expect(series).toContainEqual({
      method: 'GET',
      route: '/v1/orgs/:orgId/projects/:projectId',
      status_code: '200',
      service: 'api',
    })
    expect(series).toContainEqual({
      method: 'POST',
      route: '/v1/orgs/:orgId/projects',
      status_code: '201',
      service: 'api',
    })
    expect(JSON.stringify(series)).not.toContain(orgId)
    expect(JSON.stringify(series)).not.toContain(project.id)
  })

  it('adds no series for a storm of distinct URLs, ids and emails', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const storm = async (n: number) => {
      const urls = Array.from({ length: n }, (_, i) => {
        const id = crypto.randomUUID()
        return [
          `/nowhere/${id}`,
          `/v1/orgs/${id}/projects`,
          `/v1/orgs/${orgId}/projects/${id}`,
          `/v1/orgs/${orgId}/projects/${i}${Date.now()}`,
          `/v1/users/someone-${id}@example.com?token=${id}`,
          `/${'x'.repeat(300)}${i}`,
          `/%E0%A4%A${i}`,
        ][i % 7] as string
      })
      for (let i = 0; i < urls.length; i += 20)
        await Promise.all(
          urls
            .slice(i, i + 20)
            .map((url) => fetch(`${api}${url}`, { headers }).then((res) => res.arrayBuffer())),
        )
    }
    await storm(70)
    const before = seriesOf(await scrape(), 'http_request_duration_seconds').length
    await storm(280)
    const after = await scrape()
    expect(seriesOf(after, 'http_request_duration_seconds').length).toBe(before)
    expect(seriesOf(after, 'http_request_duration_seconds')).toContainEqual(
      expect.objectContaining({ route: '__unmatched__', status_code: '404' }),
    )
    for (const sample of after.samples) {
      if (sample.name === 'app_build_info' || sample.name === 'nodejs_version_info') continue
      for (const [label, text] of Object.entries(sample.labels))
        if (label !== 'le')
          expect(text, `${sample.name}{${label}}`).not.toMatch(UNBOUNDED_LABEL_VALUE)
    }
  })

  it('serves metrics on their own port only: /metrics on the API port is a 404', async () => {
    for (const path of ['/metrics', '/metrics/', '/v1/metrics']) {
      const res = await fetch(`${api}${path}`)
      expect(res.status, path).toBe(404)
      expect(await res.text()).not.toContain('# TYPE')
    }
    expect(metricsPort(server)).not.toBe(Number(new URL(api).port))
    const res = await fetch(metricsUrl)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect((await fetch(metricsUrl.replace('/metrics', '/'))).status).toBe(404)
    expect((await fetch(metricsUrl, { method: 'POST' })).status).toBe(405)
  })
})

describe('with a scrape token, while Redis is down', () => {
  it('refuses scrapes without the token and reports Redis not ready, promptly', async () => {
    const gate = await startGatedPort({ target: Number(new URL(services().redis.url).port) })
    const redisUrl = new URL(services().redis.url)
    redisUrl.port = String(gate.port)
    const token = 'a-scrape-token-of-some-length'
    const app = await buildTestServer({
      DATABASE_URL: services().database.appUrl,
      REDIS_URL: redisUrl.toString(),
      METRICS_ENABLED: 'true',
      METRICS_PORT: '0',
      METRICS_TOKEN: token,
      // Long enough for Postgres to answer on a loaded machine, so its gauge is certain.
      READINESS_TIMEOUT_MS: '1500',
      REDIS_CONNECT_TIMEOUT_MS: '300',
    })
    try {
      const url = `http://127.0.0.1:${metricsPort(app)}/metrics`
      for (const authorization of [undefined, 'Bearer wrong', `Basic ${token}`, token]) {
        const res = await fetch(url, authorization ? { headers: { authorization } } : {})
        expect(res.status, authorization).toBe(401)
        expect(res.headers.get('www-authenticate')).toBe('Bearer')
      }
      const started = Date.now()
      const exposition = await scrapeMetrics(url, {
        headers: { authorization: `Bearer ${token}` },
      })
      // Bounded by the readiness timeout, not by Redis coming back (it never does here).
      expect(Date.now() - started).toBeLessThan(1500 + 3_000)
      expect(value(exposition, 'readiness_status', { dependency: 'redis' })).toBe(0)
      expect(value(exposition, 'readiness_status', { dependency: 'postgres' })).toBe(1)
    } finally {
      await app.close()
      await gate.close()
    }
  })
})
