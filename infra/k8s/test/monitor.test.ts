// The monitoring component as staging and production deploy it: the PodMonitors, the
// PrometheusRule holding exactly the rule files infra/monitoring tests with promtool, and
// the dashboards for Grafana's sidecar. Schemas and the scrape path (selectors, job
// names, the NetworkPolicy) are invariants (support/invariants.ts), checked for every
// environment in manifests.test.ts.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DASHBOARDS_DIR, ruleFiles } from '../../monitoring/generated.ts'
import { renderRelease } from './support/render.ts'
import { find } from './support/workloads.ts'

describe.each(['staging', 'production'] as const)('monitoring in %s', (environment) => {
  it('scrapes api and worker, with their job names, in the namespace', async () => {
    const objects = await renderRelease(environment)
    for (const app of ['api', 'worker']) {
      const monitor = find(objects, 'PodMonitor', app)
      expect(monitor?.metadata.namespace).toBe(`groundwork-${environment}`)
      expect(monitor?.spec).toMatchObject({
        jobLabel: 'app.kubernetes.io/name',
        selector: { matchLabels: { 'app.kubernetes.io/name': app } },
        podMetricsEndpoints: [{ port: 'metrics', path: '/metrics' }],
      })
    }
  })

  it('applies every rule group of infra/monitoring/rules, unchanged', async () => {
    const objects = await renderRelease(environment)
    const rule = find(objects, 'PrometheusRule', 'groundwork')
    expect(rule?.spec.groups).toEqual(ruleFiles().flatMap((file) => file.groups))
  })

  it("hands Grafana's sidecar the dashboards, byte for byte", async () => {
    const objects = await renderRelease(environment)
    const dashboards = find(objects, 'ConfigMap', 'groundwork-dashboards')
    expect(dashboards?.metadata.labels).toMatchObject({ grafana_dashboard: '1' })
    for (const name of ['api.json', 'worker.json', 'slos.json'])
      expect(JSON.parse(dashboards?.data[name]), name).toEqual(
        JSON.parse(readFileSync(join(DASHBOARDS_DIR, name), 'utf8')),
      )
  })
})

it('leaves previews unmonitored (no Prometheus Operator assumed there)', async () => {
  const objects = await renderRelease('preview')
  expect(objects.filter((o) => o.metadata.labels?.grafana_dashboard)).toEqual([])
  expect(find(objects, 'PodMonitor', 'api')).toBeUndefined()
})
