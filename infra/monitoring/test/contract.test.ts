// The rules and dashboards read only what the services and exporters expose (metrics.json:
// names, and labels of our own metrics), every alert says how bad it is, what happened and
// where its runbook is, and that runbook exists in docs/observability.md.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { DASHBOARDS } from '../dashboards.ts'
import { ruleFiles } from '../generated.ts'
import { anchorOf, RUNBOOK_DOC } from '../slos.ts'
import { selectors, withoutGrafanaVariables } from './promql.ts'
import { METRICS, type Metric, OBSERVABILITY_DOC, promtool } from './support.ts'

/** Every panel's data source: the dashboard's variable, so one dashboard serves every environment. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, meant literally
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }

/** Labels Prometheus adds at scrape time, and the default label every series carries. */
const TARGET_LABELS = ['service', 'job', 'instance', 'namespace', 'pod', 'container', 'endpoint']

const rules = ruleFiles().flatMap((file) =>
  file.groups.flatMap((group) => group.rules.map((rule) => ({ file: file.name, rule }))),
)
const alerts = rules.flatMap(({ rule }) => ('alert' in rule ? [rule] : []))
const recorded = new Set(rules.flatMap(({ rule }) => ('record' in rule ? [rule.record] : [])))

/** Every query of every dashboard panel, with where it is. */
const queries = Object.entries(DASHBOARDS).flatMap(([file, dashboard]) =>
  (dashboard.panels as Array<{ title: string; targets?: Array<{ expr: string }> }>).flatMap(
    (panel) =>
      (panel.targets ?? []).map((t) => ({ where: `${file} "${panel.title}"`, expr: t.expr })),
  ),
)

interface Known {
  metric: Metric
  services: string[]
  histogramPart?: string
}

function knownSeries(): Map<string, Known> {
  const known = new Map<string, Known>()
  const add = (metric: Metric, services: string[]) => {
    if (metric.type === 'histogram')
      for (const part of ['bucket', 'sum', 'count'])
        known.set(`${metric.name}_${part}`, { metric, services, histogramPart: part })
    else
      known.set(metric.name, {
        metric,
        services: [...(known.get(metric.name)?.services ?? []), ...services],
      })
  }
  for (const metric of METRICS.api) add(metric, ['api'])
  for (const metric of METRICS.worker) add(metric, ['worker'])
  for (const metric of METRICS.both) add(metric, ['api', 'worker'])
  for (const metric of METRICS.thirdParty) known.set(metric.name, { metric, services: [] })
  return known
}

/** What is wrong with the names and labels one expression uses; empty when nothing is. */
function contractViolations(
  expr: string,
  known = knownSeries(),
  recordedNames = recorded,
): string[] {
  const found: string[] = []
  for (const { name, matchers } of selectors(expr)) {
    if (recordedNames.has(name)) continue
    const entry = known.get(name)
    if (!entry) {
      found.push(`${name || '(no name)'} is not in metrics.json`)
      continue
    }
    if (entry.metric.source) continue
    const allowed = new Set([
      ...(entry.metric.labels ?? []),
      ...TARGET_LABELS,
      ...(entry.histogramPart === 'bucket' ? ['le'] : []),
    ])
    for (const { label, value, op } of matchers) {
      if (!allowed.has(label)) found.push(`${name} has no label ${label}`)
      if (label === 'service' && op === '=' && !entry.services.includes(value))
        found.push(`${name} is not exposed by service ${value}`)
    }
  }
  return found
}

describe('the metrics contract', () => {
  it('reads the names the tests rely on, so an empty contract cannot pass', () => {
    const known = knownSeries()
    expect(known.has('http_request_duration_seconds_bucket')).toBe(true)
    expect(known.has('http_request_duration_seconds')).toBe(false)
    expect(known.has('up')).toBe(true)
    expect(rules.length).toBeGreaterThan(40)
    expect(queries.length).toBeGreaterThan(30)
  })

  it('finds unknown names and labels where rules and dashboards write them', () => {
    expect(contractViolations('sum(rate(http_requests_total[5m]))')).toEqual([
      'http_requests_total is not in metrics.json',
    ])
    expect(
      contractViolations(
        'sum by (route) (rate(http_request_duration_seconds_count{status="500"}[5m]))',
      ),
    ).toEqual(['http_request_duration_seconds_count has no label status'])
    expect(contractViolations('max(outbox_lag_seconds{service="api"})')).toEqual([
      'outbox_lag_seconds is not exposed by service api',
    ])
    expect(contractViolations('queue_jobs > on (queue) group_left bogus_metric offset 5m')).toEqual(
      ['bogus_metric is not in metrics.json'],
    )
    expect(
      contractViolations('rate(job_duration_seconds_bucket{le="1"}[$__rate_interval])'),
    ).toEqual([])
    expect(
      contractViolations(
        'histogram_quantile(0.99, sum by (le) (rate(redis_command_duration_seconds_bucket[5m])))',
      ),
    ).toEqual([])
  })

  it.each(
    rules.map(({ file, rule }) => [
      `${file} ${'alert' in rule ? rule.alert : rule.record}`,
      rule.expr,
    ]),
  )('rule %s uses only names and labels of the contract', (_where, expr) => {
    expect(contractViolations(expr)).toEqual([])
  })

  it.each(queries.map(({ where, expr }) => [where, expr]))(
    'dashboard query %s uses only names and labels of the contract',
    (_where, expr) => {
      expect(contractViolations(expr)).toEqual([])
    },
  )
})

describe('alerts', () => {
  const doc = readFileSync(OBSERVABILITY_DOC, 'utf8')
  const runbooks = doc.split(/^## /m).find((section) => section.startsWith('Alert runbooks'))
  const entries = [...(runbooks ?? '').matchAll(/^### (.+)$/gm)].map(([, heading]) => heading ?? '')

  it.each(alerts.map((alert) => [`${alert.alert} (${alert.labels.severity})`, alert]))(
    '%s has a severity, a summary, a description and a runbook that exists',
    (_name, alert) => {
      expect(['page', 'ticket']).toContain(alert.labels.severity)
      expect(alert.annotations.summary.length).toBeGreaterThan(10)
      expect(alert.annotations.description.length).toBeGreaterThan(alert.annotations.summary.length)
      expect(alert.annotations.runbook_url).toBe(`${RUNBOOK_DOC}#${anchorOf(alert.alert)}`)
      expect(entries.map(anchorOf)).toContain(anchorOf(alert.alert))
    },
  )

  it('every runbook entry belongs to an alert that exists', () => {
    expect(entries.length).toBeGreaterThan(0)
    expect(entries.filter((entry) => !alerts.some((a) => a.alert === entry))).toEqual([])
  })

  it('every runbook entry says what it means, what to do first and what to look at', () => {
    for (const entry of entries) {
      const body = (runbooks ?? '').split(`### ${entry}\n`)[1]?.split(/^### /m)[0] ?? ''
      for (const part of ['**What it means.**', '**First.**', '**Look at.**'])
        expect(body, `${entry}: ${part}`).toContain(part)
    }
  })
})

describe('dashboards', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'groundwork-dashboards-'))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it.each(Object.keys(DASHBOARDS))('%s has the basics Grafana needs', (file) => {
    const dashboard = JSON.parse(
      readFileSync(join(import.meta.dirname, '../dashboards', file), 'utf8'),
    )
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/)
    expect(dashboard.title).toMatch(/^Groundwork \/ /)
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36)
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    )
    const panels = dashboard.panels.filter((p: { type: string }) => p.type !== 'row')
    expect(panels.length).toBeGreaterThan(3)
    const ids = dashboard.panels.map((p: { id: number }) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const panel of panels) {
      expect(panel.title, JSON.stringify(panel)).toBeTruthy()
      expect(panel.datasource, panel.title).toEqual(DATASOURCE)
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24)
      expect(panel.targets.length, panel.title).toBeGreaterThan(0)
      for (const target of panel.targets) {
        expect(target.datasource, panel.title).toEqual(DATASOURCE)
        expect(target.expr, panel.title).toBeTruthy()
      }
    }
  })

  it('has one uid per dashboard', () => {
    const uids = Object.values(DASHBOARDS).map((d) => d.uid)
    expect(new Set(uids).size).toBe(uids.length)
  })

  it('every query parses as PromQL (promtool, with Grafana variables filled in)', () => {
    const file = join(scratch, 'queries.yaml')
    writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: 'dashboard-queries',
            rules: queries.map(({ expr }, index) => ({
              record: `dashboard:query_${index}`,
              expr: withoutGrafanaVariables(expr),
            })),
          },
        ],
      }),
    )
    const { status, output } = promtool(['check', 'rules', file])
    expect(output).toContain(`SUCCESS: ${queries.length} rules found`)
    expect(status).toBe(0)
  })
})
