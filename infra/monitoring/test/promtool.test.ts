// The rules through Prometheus' own tooling: `promtool check rules` on every rule file,
// `promtool test rules` on the synthetic series of tests/*.yaml (every alert proven to fire
// and to stay quiet), `promtool check config` on the example scrape configuration. Each
// is shown to fail on a broken copy, and the test files to cover every alert.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { MONITORING_DIR, ruleFiles } from '../generated.ts'
import { promtool } from './support.ts'

const scratch = mkdtempSync(join(tmpdir(), 'groundwork-rules-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const ruleFileNames = ruleFiles().map((file) => `rules/${file.name}`)
const testFiles = readdirSync(join(MONITORING_DIR, 'tests'))
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => `tests/${name}`)

interface AlertTest {
  eval_time: string
  alertname: string
  exp_alerts?: Array<{ exp_labels?: Record<string, string> }>
}

const alertTests: AlertTest[] = testFiles.flatMap((file) =>
  parse(readFileSync(join(MONITORING_DIR, file), 'utf8')).tests.flatMap(
    (test: { alert_rule_test?: AlertTest[] }) => test.alert_rule_test ?? [],
  ),
)

describe('promtool', () => {
  it('checks every rule file', () => {
    const { status, output } = promtool(['check', 'rules', ...ruleFileNames])
    expect(output).not.toContain('FAILED')
    expect(status).toBe(0)
  })

  it('passes every rule test (tests/*.yaml)', { timeout: 300_000 }, () => {
    const { status, output } = promtool(['test', 'rules', ...testFiles])
    expect(output).not.toContain('FAILED')
    expect(status).toBe(0)
  })

  it('checks the example Prometheus configuration and the rule files it loads', () => {
    const { status, output } = promtool(['check', 'config', 'prometheus.yml'])
    expect(output).toContain('SUCCESS')
    for (const file of ruleFileNames) expect(output).toContain(file)
    expect(status).toBe(0)
  })

  it('fails a rule test when a rule loses what it is tested for', () => {
    cpSync(join(MONITORING_DIR, 'rules'), join(scratch, 'rules'), { recursive: true })
    cpSync(join(MONITORING_DIR, 'tests'), join(scratch, 'tests'), { recursive: true })
    const file = join(scratch, 'rules/alerts.yaml')
    const rules = readFileSync(file, 'utf8')
    const guard = 'redis_memory_used_bytes / (redis_memory_max_bytes > 0) > 0.90'
    expect(rules).toContain(guard)
    writeFileSync(
      file,
      rules.replace(guard, 'redis_memory_used_bytes / redis_memory_max_bytes > 0.90'),
    )
    const { status, output } = promtool(['test', 'rules', 'tests/alerts.yaml'], scratch)
    expect(status).toBe(1)
    expect(output).toContain('without maxmemory, stays quiet')
  })

  it('fails a rule file that does not parse', () => {
    const file = join(scratch, 'broken.yaml')
    writeFileSync(
      file,
      'groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(up[5m]\n',
    )
    const { status, output } = promtool(['check', 'rules', file])
    expect(status).toBe(1)
    expect(output).toContain('FAILED')
  })
})

describe('the rule tests', () => {
  const alerts = ruleFiles().flatMap((file) =>
    file.groups.flatMap((group) => group.rules.flatMap((rule) => ('alert' in rule ? [rule] : []))),
  )

  it('load every rule file', () => {
    const loaded = testFiles.flatMap((file) =>
      (parse(readFileSync(join(MONITORING_DIR, file), 'utf8')).rule_files as string[]).map((path) =>
        path.replace(/^\.\.\//, ''),
      ),
    )
    expect(new Set(loaded)).toEqual(new Set(ruleFileNames))
  })

  it.each(alerts.map((alert) => [alert.alert, alert.labels.severity]))(
    '%s (%s) has a case where it fires',
    (name, severity) => {
      const fires = alertTests.filter(
        (test) =>
          test.alertname === name &&
          (test.exp_alerts ?? []).some((alert) => alert.exp_labels?.severity === severity),
      )
      expect(fires.length).toBeGreaterThan(0)
    },
  )

  it.each([...new Set(alerts.map((alert) => alert.alert))])(
    '%s has a case where it stays quiet',
    (name) => {
      const quiet = alertTests.filter(
        (test) => test.alertname === name && (test.exp_alerts ?? []).length === 0,
      )
      expect(quiet.length).toBeGreaterThan(0)
    },
  )
})
