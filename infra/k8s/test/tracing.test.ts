// components/tracing as an environment enables it (README "Traces"): the apps export to
// the collector named in environment.yaml and a NetworkPolicy lets them through the
// default deny. That every exporting Deployment can reach its endpoint is an invariant
// (support/invariants.ts), broken on purpose in mutations.test.ts.
import { describe, expect, it } from 'vitest'
import { violations } from './support/invariants.ts'
import {
  ENVIRONMENTS,
  renderRelease,
  renderWithTracing,
  TEST_REGISTRY,
  TEST_TAG,
} from './support/render.ts'
import { envOf, find } from './support/workloads.ts'

const release = { release: { registry: TEST_REGISTRY, tag: TEST_TAG } }
const APPS = ['api', 'worker', 'web'] as const

describe.each(['staging', 'production'] as const)('tracing enabled in %s', (environment) => {
  it('points the apps at the collector and lets them reach it, every invariant holding', async () => {
    const objects = await renderWithTracing(environment)
    expect(violations(objects, release)).toEqual([])
    const env = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('groundwork-env'),
    )
    expect(env?.data.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
      'http://opentelemetry-collector.observability.svc.cluster.local:4318',
    )
    // A share of new traces, whole: what every trace would cost is in docs/benchmarks.md.
    expect(env?.data.OTEL_TRACES_SAMPLER).toBe('parentbased_traceidratio')
    expect(env?.data.OTEL_TRACES_SAMPLER_ARG).toBe('0.1')
    for (const app of APPS) {
      const container = find(objects, 'Deployment', app)?.spec.template.spec.containers[0]
      expect(container.envFrom).toContainEqual({ configMapRef: { name: env?.metadata.name } })
    }
    const policy = find(objects, 'NetworkPolicy', 'allow-otel-collector')
    expect(policy?.spec).toEqual({
      podSelector: {
        matchExpressions: [
          { key: 'app.kubernetes.io/name', operator: 'In', values: ['api', 'worker', 'web'] },
        ],
      },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: {
                matchLabels: { 'kubernetes.io/metadata.name': 'observability' },
              },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'opentelemetry-collector' } },
            },
          ],
          ports: [
            { protocol: 'TCP', port: 4317 },
            { protocol: 'TCP', port: 4318 },
          ],
        },
      ],
    })
  })
})

describe.each(ENVIRONMENTS)('the %s environment as shipped', (environment) => {
  it('exports no traces, and maps the backend key for when tracing is enabled', async () => {
    const objects = await renderRelease(environment)
    expect(find(objects, 'NetworkPolicy', 'allow-otel-collector')).toBeUndefined()
    for (const object of objects)
      expect(object.data?.OTEL_EXPORTER_OTLP_ENDPOINT, object.metadata.name).toBeUndefined()
    for (const app of APPS) {
      const container = find(objects, 'Deployment', app)?.spec.template.spec.containers[0]
      expect(envOf(container).get('OTEL_EXPORTER_OTLP_HEADERS')?.valueFrom, app).toEqual({
        secretKeyRef: {
          name: 'groundwork-integrations',
          key: 'OTEL_EXPORTER_OTLP_HEADERS',
          optional: true,
        },
      })
    }
  })
})
