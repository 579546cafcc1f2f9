import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { violations } from './support/invariants.ts'
import {
  K8S_DIR,
  type K8sObject,
  type Loose,
  renderRelease,
  renderWithTracing,
  TEST_REGISTRY,
  TEST_TAG,
} from './support/render.ts'
import { find } from './support/workloads.ts'

// Every invariant must be able to fail: each case breaks one thing in a correct render
// and names the violation it must produce.
const release = { release: { registry: TEST_REGISTRY, tag: TEST_TAG } }
let staging: K8sObject[]
let preview: K8sObject[]
// Staging with components/tracing, which no overlay includes by default.
let tracing: K8sObject[]
beforeAll(async () => {
  ;[staging, preview, tracing] = await Promise.all([
    renderRelease('staging'),
    renderRelease('preview'),
    renderWithTracing('staging'),
  ])
})

const container = (objects: K8sObject[], name: string): Loose =>
  find(objects, 'Deployment', name)?.spec.template.spec.containers[0]
const envEntry = (objects: K8sObject[], app: string, name: string): Loose =>
  container(objects, app).env.find((e: Loose) => e.name === name)
/** PgBouncer's files (pgbouncer.ini, databases.ini, pools.ini), to change in place. */
const pgbouncerFiles = (objects: K8sObject[]): Loose =>
  (objects.find((x) => x.metadata.name.startsWith('pgbouncer-config')) as K8sObject).data
/** The URLs the ExternalSecret `groundwork` composes, to change in place. */
const secretUrls = (objects: K8sObject[]): Loose =>
  (find(objects, 'ExternalSecret', 'groundwork') as K8sObject).spec.target.template.data

const cases: Array<
  [string, (objects: K8sObject[]) => void, RegExp, ('staging' | 'preview' | 'tracing')?]
> = [
  [
    'a third-party image on latest',
    (o) => {
      container(o, 'pgbouncer').image = 'ghcr.io/cloudnative-pg/pgbouncer:latest'
    },
    /pgbouncer:latest is "latest"/,
  ],
  [
    'a third-party image without a tag',
    (o) => {
      container(o, 'pgbouncer').image = 'ghcr.io/cloudnative-pg/pgbouncer'
    },
    /has no tag/,
  ],
  [
    'our image on latest',
    (o) => {
      container(o, 'api').image = `${TEST_REGISTRY}/groundwork-api:latest`
    },
    /groundwork-api:latest, expected/,
  ],
  [
    'no readiness probe',
    (o) => {
      delete container(o, 'api').readinessProbe
    },
    /Deployment\/api container api: no readinessProbe/,
  ],
  [
    'no startup probe',
    (o) => {
      delete container(o, 'worker').startupProbe
    },
    /Deployment\/worker container worker: no startupProbe/,
  ],
  [
    'liveness on the readiness path',
    (o) => {
      container(o, 'api').livenessProbe.httpGet.path = '/readyz'
    },
    /livenessProbe: expected httpGet \/healthz/,
  ],
  [
    'a probe on a port the container lacks',
    (o) => {
      container(o, 'web').readinessProbe.httpGet.port = 'metrics'
    },
    /port metrics is not one of the container's/,
  ],
  [
    'an inline Secret',
    (o) => {
      o.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'inline',
          namespace: 'groundwork-staging',
          labels: {
            'groundwork.dev/deploy-phase': 'setup',
            'app.kubernetes.io/part-of': 'groundwork',
          },
        },
        stringData: { password: 'hunter2' },
      })
    },
    /Secret\/inline: secrets come from External Secrets/,
  ],
  [
    'a database URL written into the manifest',
    (o) => {
      const entry = envEntry(o, 'api', 'DATABASE_URL')
      delete entry.valueFrom
      entry.value = 'postgresql://groundwork:s3cret@db.internal:6432/groundwork'
    },
    /env DATABASE_URL: a credential must come from a Secret/,
  ],
  [
    'a password in a ConfigMap',
    (o) => {
      const env = o.find(
        (x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('groundwork-env'),
      )
      ;(env as K8sObject).data.REDIS_URL = 'rediss://:s3cret@redis.example.com:6379'
    },
    /a URL with a password/,
  ],
  [
    'a key written into an env value',
    (o) => {
      container(o, 'worker').env.push({
        name: 'LOG_FORMAT',
        value: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
      })
    },
    /a base64 32-byte key/,
  ],
  [
    'a Secret no ExternalSecret makes',
    (o) => {
      envEntry(o, 'api', 'REDIS_URL').valueFrom.secretKeyRef.name = 'redis-credentials'
    },
    /Secret redis-credentials is made by no ExternalSecret/,
  ],
  [
    'a key the ExternalSecret does not write',
    (o) => {
      envEntry(o, 'worker', 'MFA_ENCRYPTION_KEY').valueFrom.secretKeyRef.key = 'MFA_KEY'
    },
    /Secret groundwork has no key MFA_KEY/,
  ],
  [
    'a field of the wrong type',
    (o) => {
      ;(find(o, 'Deployment', 'pgbouncer') as K8sObject).spec.replicas = '2'
    },
    /Deployment\/pgbouncer: .*replicas must be integer/,
  ],
  [
    'a misspelt field',
    (o) => {
      const api = container(o, 'api')
      api.readinesProbe = api.readinessProbe
      delete api.readinessProbe
    },
    /unknown field \/spec\/template\/spec\/containers\/0\/readinesProbe/,
  ],
  [
    'a kind without a schema',
    (o) => {
      o.push({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: {
          name: 'w',
          namespace: 'groundwork-staging',
          labels: {
            'groundwork.dev/deploy-phase': 'setup',
            'app.kubernetes.io/part-of': 'groundwork',
          },
        },
      })
    },
    /Widget\/w: no schema/,
  ],
  [
    'a Deployment without a disruption budget',
    (o) => {
      o.splice(
        o.findIndex((x) => x.kind === 'PodDisruptionBudget' && x.metadata.name === 'worker'),
        1,
      )
    },
    /Deployment\/worker: no PodDisruptionBudget/,
  ],
  [
    'a grace period shorter than drain and timeout',
    (o) => {
      ;(
        find(o, 'Deployment', 'api') as K8sObject
      ).spec.template.spec.terminationGracePeriodSeconds = 20
    },
    /Deployment\/api: terminationGracePeriodSeconds 20 < 30/,
  ],
  [
    'a drain delay left to the default',
    (o) => {
      const api = container(o, 'api')
      api.env = api.env.filter((e: Loose) => e.name !== 'SHUTDOWN_DRAIN_DELAY_MS')
    },
    /SHUTDOWN_DRAIN_DELAY_MS is not set explicitly/,
  ],
  [
    'a container that may run as root',
    (o) => {
      const pod = (find(o, 'Deployment', 'web') as K8sObject).spec.template.spec
      pod.securityContext.runAsUser = 0
    },
    /Deployment\/web container web: may run as root/,
  ],
  [
    'a writable root filesystem',
    (o) => {
      container(o, 'worker').securityContext.readOnlyRootFilesystem = false
    },
    /worker: root filesystem writable/,
  ],
  [
    'no writable cache for the web app',
    (o) => {
      const web = container(o, 'web')
      web.volumeMounts = web.volumeMounts.filter((m: Loose) => m.mountPath === '/tmp')
    },
    /no writable emptyDir at \/app\/apps\/web\/.next\/cache/,
  ],
  [
    'no memory limit',
    (o) => {
      delete container(o, 'api').resources.limits
    },
    /api: no limits.memory/,
  ],
  [
    'a service account token',
    (o) => {
      delete (find(o, 'Deployment', 'worker') as K8sObject).spec.template.spec
        .automountServiceAccountToken
    },
    /Deployment\/worker: mounts a service account token/,
  ],
  [
    'service links',
    (o) => {
      delete (find(o, 'Deployment', 'web') as K8sObject).spec.template.spec.enableServiceLinks
    },
    /Deployment\/web: service links on/,
  ],
  [
    'an autoscaler whose target is gone',
    (o) => {
      ;(find(o, 'HorizontalPodAutoscaler', 'web') as K8sObject).spec.scaleTargetRef.name =
        'frontend'
    },
    /scales Deployment\/frontend, which does not exist/,
  ],
  [
    'a worker that may scale to zero',
    (o) => {
      ;(find(o, 'ScaledObject', 'worker') as K8sObject).spec.minReplicaCount = 0
    },
    /ScaledObject\/worker: may scale to zero/,
  ],
  [
    'replicas beside an autoscaler',
    (o) => {
      ;(find(o, 'Deployment', 'api') as K8sObject).spec.replicas = 3
    },
    /Deployment\/api: sets replicas/,
  ],
  [
    'no zone spread',
    (o) => {
      const pod = (find(o, 'Deployment', 'api') as K8sObject).spec.template.spec
      pod.topologySpreadConstraints = pod.topologySpreadConstraints.slice(1)
    },
    /Deployment\/api: not spread over topology.kubernetes.io\/zone/,
  ],
  [
    'no default deny',
    (o) => {
      o.splice(
        o.findIndex((x) => x.metadata.name === 'default-deny'),
        1,
      )
    },
    /no default-deny NetworkPolicy/,
  ],
  [
    'the api rolled out with the setup',
    (o) => {
      const labels = (find(o, 'Deployment', 'api') as K8sObject).metadata.labels as Loose
      labels['groundwork.dev/deploy-phase'] = 'setup'
    },
    /Deployment\/api: runs the release's image before its migrations/,
  ],
  [
    'an object deploy.sh would skip',
    (o) => {
      const labels = (find(o, 'Service', 'web') as K8sObject).metadata.labels as Loose
      delete labels['groundwork.dev/deploy-phase']
    },
    /Service\/web: no groundwork.dev\/deploy-phase label/,
  ],
  [
    'a migration Job with another command',
    (o) => {
      ;(
        find(o, 'Job', 'groundwork-migrate') as K8sObject
      ).spec.template.spec.containers[0].command = [
        'node',
        'packages/db/src/migrate/cli.ts',
        'apply',
      ]
    },
    /Job\/groundwork-migrate: command/,
  ],
  [
    'PgBouncer to the managed Postgres without TLS',
    (o) => {
      pgbouncerFiles(o)['pools.ini'] += '\nserver_tls_sslmode = prefer\n'
    },
    /PgBouncer: reaches the managed Postgres with server_tls_sslmode prefer, not TLS/,
  ],
  [
    'PgBouncer in session mode',
    (o) => {
      const files = pgbouncerFiles(o)
      files['pgbouncer.ini'] = files['pgbouncer.ini'].replace(
        'pool_mode = transaction',
        'pool_mode = session',
      )
    },
    /PgBouncer: not in transaction mode/,
  ],
  [
    "the outbox listener's PgBouncer database in transaction mode",
    (o) => {
      const files = pgbouncerFiles(o)
      files['pools.ini'] = files['pools.ini'].replace('pool_mode=session', 'pool_mode=transaction')
    },
    /OUTBOX_LISTEN_DATABASE_URL: not a session-mode PgBouncer database/,
  ],
  [
    "the outbox listener on the apps' transaction-mode database",
    (o) => {
      const template = secretUrls(o)
      template.OUTBOX_LISTEN_DATABASE_URL = template.WORKER_DATABASE_URL
    },
    /OUTBOX_LISTEN_DATABASE_URL: not a session-mode PgBouncer database/,
  ],
  [
    'the outbox listener on the api login',
    (o) => {
      const template = secretUrls(o)
      template.OUTBOX_LISTEN_DATABASE_URL = template.OUTBOX_LISTEN_DATABASE_URL.replace(
        'groundwork_worker_login:{{ .WORKER_DB_PASSWORD }}',
        'groundwork:{{ .APP_DB_PASSWORD }}',
      )
    },
    /OUTBOX_LISTEN_DATABASE_URL: not the worker's login/,
  ],
  [
    'a worker without the listener URL',
    (o) => {
      const worker = container(o, 'worker')
      worker.env = worker.env.filter((e: Loose) => e.name !== 'OUTBOX_LISTEN_DATABASE_URL')
    },
    /Deployment\/worker: no OUTBOX_LISTEN_DATABASE_URL from the Secret groundwork/,
  ],
  [
    'more worker pods than the listen pool holds',
    (o) => {
      ;(find(o, 'ScaledObject', 'worker') as K8sObject).spec.maxReplicaCount = 8
    },
    /PgBouncer database groundwork_listen: pool_size 5 holds fewer than the 10 worker pods there can be/,
  ],
  [
    'a PgBouncer database that forces a login',
    (o) => {
      const files = pgbouncerFiles(o)
      files['pools.ini'] = files['pools.ini'].replace(
        'pool_mode=session',
        'pool_mode=session user=groundwork_worker_login',
      )
    },
    /PgBouncer database groundwork_listen: forces the server login groundwork_worker_login/,
  ],
  [
    "the apps' database in session mode by its own entry",
    (o) => {
      const files = pgbouncerFiles(o)
      files['databases.ini'] = files['databases.ini'].replace(
        'dbname=groundwork ',
        'dbname=groundwork pool_mode=session ',
      )
    },
    /PgBouncer database groundwork: pool_mode session, not transaction/,
  ],
  [
    'a statement timeout PgBouncer does not apply',
    (o) => {
      envEntry(o, 'worker', 'DATABASE_STATEMENT_TIMEOUT_MS').value = '30000'
    },
    /differ from worker's DATABASE_STATEMENT_TIMEOUT_MS 30000/,
  ],
  [
    'migrations through PgBouncer',
    (o) => {
      const template = secretUrls(o)
      template.MIGRATION_DATABASE_URL = template.MIGRATION_DATABASE_URL.replace(
        '@postgres:5432',
        '@pgbouncer:6432',
      )
    },
    /MIGRATION_DATABASE_URL: through PgBouncer/,
    'preview',
  ],
  [
    'a placeholder left',
    (o) => {
      ;(find(o, 'Ingress', 'groundwork') as K8sObject).spec.rules[0].host = 'unset.invalid'
    },
    /placeholder "unset.invalid" left/,
  ],
  [
    'an object in another namespace',
    (o) => {
      ;(find(o, 'Service', 'api') as K8sObject).metadata.namespace = 'default'
    },
    /Service\/api: outside groundwork-staging/,
  ],
  [
    'a PodMonitor that selects no pods',
    (o) => {
      ;(find(o, 'PodMonitor', 'worker') as K8sObject).spec.selector.matchLabels = {
        'app.kubernetes.io/name': 'workers',
      }
    },
    /PodMonitor\/worker: selects no Deployment's pods/,
  ],
  [
    "a PodMonitor whose job is not the alerts' name",
    (o) => {
      delete (find(o, 'PodMonitor', 'api') as K8sObject).spec.jobLabel
    },
    /PodMonitor\/api: job label undefined of Deployment\/api is not "api"/,
  ],
  [
    'a PodMonitor scraping a port the pods do not have',
    (o) => {
      const worker = find(o, 'Deployment', 'worker') as K8sObject
      for (const container of worker.spec.template.spec.containers)
        container.ports = (container.ports ?? []).filter(
          (port: { name?: string }) => port.name !== 'metrics',
        )
    },
    /PodMonitor\/worker: Deployment\/worker has no container port named metrics/,
  ],
  [
    'no policy letting Prometheus scrape',
    (o) => {
      ;(find(o, 'NetworkPolicy', 'allow-prometheus') as K8sObject).spec.ingress[0].ports = [
        { port: 'http', protocol: 'TCP' },
      ]
    },
    /PodMonitor\/api: no NetworkPolicy lets Prometheus reach port metrics/,
  ],
  [
    'traces to a collector no egress rule reaches',
    (o) => {
      const policy = find(o, 'NetworkPolicy', 'allow-otel-collector') as K8sObject
      policy.spec.egress = []
    },
    /Deployment\/api: exports traces to http:\/\/\S+:4318, but no NetworkPolicy lets its pods reach/,
    'tracing',
  ],
  [
    'traces to a collector in a namespace the egress rule does not name',
    (o) => {
      const policy = find(o, 'NetworkPolicy', 'allow-otel-collector') as K8sObject
      policy.spec.egress[0].to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'] =
        'monitoring'
    },
    /Deployment\/web: exports traces to .*, but no NetworkPolicy lets its pods reach/,
    'tracing',
  ],
  [
    'a traces endpoint set without the tracing component',
    (o) => {
      container(o, 'worker').env.push({
        name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
        value: 'http://otel-collector.observability.svc:4318',
      })
    },
    /Deployment\/worker: exports traces to http:\/\/otel-collector.observability.svc:4318, but no NetworkPolicy lets its pods reach otel-collector.observability.svc on port 4318/,
  ],
  [
    'a PodMonitor field the CRD does not know',
    (o) => {
      // A typo of `port`: the scrape would silently find no endpoint.
      ;(find(o, 'PodMonitor', 'api') as K8sObject).spec.podMetricsEndpoints[0].prot = 'metrics'
    },
    /PodMonitor\/api: unknown field \/spec\/podMetricsEndpoints\/0\/prot/,
  ],
  [
    'a PrometheusRule with a rule the CRD refuses',
    (o) => {
      ;(find(o, 'PrometheusRule', 'groundwork') as K8sObject).spec.groups[0].rules[0].expr = {
        query: 'up',
      }
    },
    /PrometheusRule\/groundwork: /,
  ],
]

describe('each broken invariant is caught', () => {
  it.each(cases)('%s', (_name, mutate, expected, environment = 'staging') => {
    const objects = structuredClone(
      environment === 'preview' ? preview : environment === 'tracing' ? tracing : staging,
    )
    expect(violations(objects, release)).toEqual([])
    mutate(objects)
    const found = violations(objects, release)
    expect(
      found.some((line) => expected.test(line)),
      found.join('\n'),
    ).toBe(true)
  })
})

// The same, end to end: a broken file in a copy of infra/k8s, rendered by deploy.sh.
describe('a broken manifest file fails the render checks', () => {
  let copy: string
  beforeAll(async () => {
    copy = await mkdtemp(join(tmpdir(), 'groundwork-k8s-'))
    await cp(K8S_DIR, copy, { recursive: true, filter: (path) => !path.includes('.render.') })
  })
  afterAll(() => rm(copy, { recursive: true, force: true }))

  async function renderWith(file: string, from: string, to: string) {
    const path = join(copy, file)
    const original = await readFile(path, 'utf8')
    if (!original.includes(from)) throw new Error(`${file} no longer contains ${from}`)
    await writeFile(path, original.replace(from, to))
    try {
      return violations(await renderRelease('production', { dir: copy }), release)
    } finally {
      await writeFile(path, original)
    }
  }

  it.each([
    ['latest', 'base/pgbouncer.yaml', 'pgbouncer:1.25.2', 'pgbouncer:latest', /"latest"/],
    [
      'no probe',
      'base/api.yaml',
      '          readinessProbe:\n            httpGet: { path: /readyz, port: http }\n            periodSeconds: 2\n            timeoutSeconds: 2\n            failureThreshold: 2\n',
      '',
      /api: no readinessProbe/,
    ],
    [
      'an inline secret',
      'base/api.yaml',
      '            - name: DATABASE_URL\n              valueFrom: { secretKeyRef: { name: groundwork, key: DATABASE_URL } }',
      '            - { name: DATABASE_URL, value: "postgresql://groundwork:s3cret@db.internal:6432/groundwork" }',
      /DATABASE_URL: a credential must come from a Secret/,
    ],
    [
      'a field type',
      'base/worker.yaml',
      'terminationGracePeriodSeconds: 35',
      'terminationGracePeriodSeconds: "35s"',
      /Deployment\/worker: .*terminationGracePeriodSeconds must be integer/,
    ],
  ])('%s', async (_name, file, from, to, expected) => {
    const found = await renderWith(file, from, to)
    expect(
      found.some((line) => expected.test(line)),
      found.join('\n'),
    ).toBe(true)
  })

  it('renders the unbroken copy cleanly', async () => {
    expect(violations(await renderRelease('production', { dir: copy }), release)).toEqual([])
  })
})
