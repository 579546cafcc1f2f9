// The generated files are what their sources say (`pnpm monitoring:generate` and commit
// otherwise), and the Kubernetes component applies exactly the rule files and dashboards
// that are tested here.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { expectedFiles, PROMETHEUS_RULE_FILE, prometheusRule, REPO_DIR } from '../generated.ts'

const stale = 'stale: run `pnpm monitoring:generate` and commit the result'
const read = (path: string) => {
  const text = readFileSync(path, 'utf8')
  return path.endsWith('.json') ? JSON.parse(text) : parse(text)
}

describe('generated files', () => {
  it.each([...expectedFiles()].map(([path, content]) => [relative(REPO_DIR, path), path, content]))(
    '%s is current',
    (_name, path, content) => {
      expect(read(path as string), stale).toEqual(content)
    },
  )

  it("the component's PrometheusRule holds every group of every rule file, unchanged", () => {
    const rule = read(PROMETHEUS_RULE_FILE)
    expect(rule, stale).toEqual(prometheusRule())
    expect(rule.spec.groups.map((g: { name: string }) => g.name)).toEqual(
      expect.arrayContaining(['slo-api-availability', 'groundwork-saturation']),
    )
  })
})
