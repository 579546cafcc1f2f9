/**
 * The files `pnpm monitoring:generate` writes, as data: the SLO rules, the dashboards,
 * and their copies in the Kubernetes component (kustomize reads files only from below
 * its own directory). Tests compare the committed files with these.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import { DASHBOARDS } from './dashboards.ts'
import { type RuleGroup, sloRuleGroups } from './slos.ts'

export const MONITORING_DIR = import.meta.dirname
export const REPO_DIR = resolve(MONITORING_DIR, '../..')
export const RULES_DIR = join(MONITORING_DIR, 'rules')
export const DASHBOARDS_DIR = join(MONITORING_DIR, 'dashboards')
export const COMPONENT_DIR = join(REPO_DIR, 'infra/k8s/components/monitoring')

export const SLO_RULES_FILE = join(RULES_DIR, 'slos.yaml')
export const PROMETHEUS_RULE_FILE = join(COMPONENT_DIR, 'prometheus-rules.yaml')

/** Every rule file, by name, in the order Prometheus and the PrometheusRule list them. */
export function ruleFiles(dir = RULES_DIR): Array<{ name: string; groups: RuleGroup[] }> {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => ({ name, groups: parse(readFileSync(join(dir, name), 'utf8')).groups }))
}

/** The PrometheusRule the component applies: every group of every rule file, unchanged. */
export function prometheusRule(dir = RULES_DIR) {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'groundwork',
      labels: { 'groundwork.dev/deploy-phase': 'setup' },
    },
    spec: { groups: ruleFiles(dir).flatMap((file) => file.groups) },
  }
}

/** Path → content (parsed) of every generated file. */
export function expectedFiles(): Map<string, unknown> {
  const files = new Map<string, unknown>()
  files.set(SLO_RULES_FILE, { groups: sloRuleGroups() })
  for (const [name, dashboard] of Object.entries(DASHBOARDS)) {
    files.set(join(DASHBOARDS_DIR, name), dashboard)
    files.set(join(COMPONENT_DIR, 'dashboards', name), dashboard)
  }
  return files
}
