import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** One sample of a Prometheus text exposition: `name{labels} value`. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Exposition {
  /** `# TYPE` of every metric family, by name. */
  types: Map<string, string>
  samples: Sample[]
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Parses Prometheus' text format (version 0.0.4) as prom-client writes it. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ')
      if (name && type) types.set(name, type)
      continue
    }
    if (line.startsWith('#')) continue
    const match = SAMPLE.exec(line)
    if (!match) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL))
      labels[key as string] = (value as string).replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c))
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return { types, samples }
}

/** The samples of one metric family: a histogram's _bucket, _sum and _count included. */
export function familySamples(exposition: Exposition, name: string): Sample[] {
  const type = exposition.types.get(name)
  const names =
    type === 'histogram' || type === 'summary'
      ? new Set([`${name}_bucket`, `${name}_sum`, `${name}_count`, name])
      : new Set([name])
  return exposition.samples.filter((sample) => names.has(sample.name))
}

/** A family's series: label sets without histogram buckets' `le`, each once. */
export function seriesOf(exposition: Exposition, name: string): Array<Record<string, string>> {
  const seen = new Map<string, Record<string, string>>()
  for (const sample of familySamples(exposition, name)) {
    const { le: _bucket, ...labels } = sample.labels
    seen.set(JSON.stringify(Object.entries(labels).sort()), labels)
  }
  return [...seen.values()]
}

export interface MetricContract {
  name: string
  type: string
  labels: string[]
}

/**
 * infra/monitoring/metrics.json: what each service must expose, by service (`api`,
 * `worker`), with the metrics both expose (`both`) included.
 */
export function metricsContract(service: 'api' | 'worker'): MetricContract[] {
  const path = fileURLToPath(new URL('../../../infra/monitoring/metrics.json', import.meta.url))
  const contract = JSON.parse(readFileSync(path, 'utf8')) as Record<string, MetricContract[]>
  return [...(contract[service] ?? []), ...(contract.both ?? [])]
}

/** Fetches an exposition over HTTP, with a deadline. */
export async function scrapeMetrics(
  url: string,
  init: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Exposition> {
  const res = await fetch(url, {
    ...(init.headers ? { headers: init.headers } : {}),
    signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
  })
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`)
  return parseExposition(await res.text())
}

/** Label values that carry an id, an email or a raw URL: none may appear in a series. */
export const UNBOUNDED_LABEL_VALUE =
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|@|\d{4,}|\?|%/i
