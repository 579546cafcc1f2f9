import { checkOutboxListen } from './outbox-listen.ts'
import type { K8sObject, Loose } from './render.ts'
import { schemaErrors } from './schema.ts'
import {
  APPS,
  envOf,
  externalSecretKeys,
  find,
  imageName,
  imageTag,
  isAppImage,
  secretReferences,
  selects,
  strings,
  workloads,
} from './workloads.ts'

/**
 * What every rendered environment must satisfy (README "What the tests guarantee").
 * Returns one line per violation; empty means the manifests hold every invariant.
 *
 * `images`: `release` for deploy.sh's output (our images carry the registry and the
 * release's tag), `unset` for an overlay rendered as is (our images carry no tag at all,
 * so nothing but deploy.sh can deploy them).
 */
export function violations(
  objects: K8sObject[],
  images: { release: { registry: string; tag: string } } | 'unset',
): string[] {
  return [
    ...objects.flatMap(schemaErrors),
    ...checkPhases(objects),
    ...checkNamespace(objects),
    ...checkPods(objects, images),
    ...checkProbes(objects),
    ...checkGracePeriods(objects),
    ...checkDisruptionBudgets(objects),
    ...checkSpread(objects),
    ...checkAutoscaling(objects),
    ...checkSecrets(objects),
    ...checkNetwork(objects),
    ...checkMonitoring(objects),
    ...checkTracing(objects),
    ...checkContracts(objects),
    ...checkOutboxListen(objects),
    ...checkPlaceholders(objects),
  ]
}

const PHASES = ['setup', 'migrate', 'rollout']

/** deploy.sh applies by phase: every object has one, and the order holds. */
function checkPhases(objects: K8sObject[]) {
  const found: string[] = []
  for (const object of objects) {
    const where = `${object.kind}/${object.metadata.name}`
    const phase = object.metadata.labels?.['groundwork.dev/deploy-phase']
    if (!phase || !PHASES.includes(phase))
      found.push(`${where}: no groundwork.dev/deploy-phase label (deploy.sh would skip it)`)
    if (object.metadata.labels?.['app.kubernetes.io/part-of'] !== 'groundwork')
      found.push(`${where}: not labelled app.kubernetes.io/part-of=groundwork`)
    if (
      phase === 'migrate' &&
      !(object.kind === 'Job' && object.metadata.name === 'groundwork-migrate')
    )
      found.push(`${where}: only the migration Job runs in the migrate phase`)
  }
  for (const workload of workloads(objects)) {
    const phase = workload.object.metadata.labels?.['groundwork.dev/deploy-phase']
    const usesRelease = workload.containers.some((c) => isAppImage(c.image ?? ''))
    if (usesRelease && phase === 'setup')
      found.push(`${workload.where}: runs the release's image before its migrations (setup phase)`)
  }
  for (const app of APPS) {
    const phase = find(objects, 'Deployment', app)?.metadata.labels?.['groundwork.dev/deploy-phase']
    if (phase !== 'rollout') found.push(`Deployment/${app}: must roll out after the migrations`)
  }
  return found
}

function checkNamespace(objects: K8sObject[]) {
  const namespaces = objects.filter((object) => object.kind === 'Namespace')
  if (namespaces.length !== 1) return [`expected one Namespace, found ${namespaces.length}`]
  const namespace = namespaces[0] as K8sObject
  const found: string[] = []
  if (namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted')
    found.push(`Namespace/${namespace.metadata.name}: Pod Security "restricted" is not enforced`)
  for (const object of objects)
    if (object.kind !== 'Namespace' && object.metadata.namespace !== namespace.metadata.name)
      found.push(`${object.kind}/${object.metadata.name}: outside ${namespace.metadata.name}`)
  return found
}

function checkPods(
  objects: K8sObject[],
  images: { release: { registry: string; tag: string } } | 'unset',
) {
  const found: string[] = []
  for (const { where, pod, containers } of workloads(objects)) {
    if (pod.automountServiceAccountToken !== false)
      found.push(`${where}: mounts a service account token`)
    if (pod.enableServiceLinks !== false)
      found.push(
        `${where}: service links on (they define API_PORT, WEB_PORT, ... in the apps' env)`,
      )
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC)
      found.push(`${where}: shares a host namespace`)
    const podSecurity = pod.securityContext ?? {}
    if (podSecurity.runAsNonRoot !== true) found.push(`${where}: pod not runAsNonRoot`)
    if (podSecurity.seccompProfile?.type !== 'RuntimeDefault')
      found.push(`${where}: seccomp profile is not RuntimeDefault`)
    for (const container of containers) {
      const at = `${where} container ${container.name}`
      const security = container.securityContext ?? {}
      const uid = security.runAsUser ?? podSecurity.runAsUser
      const gid = security.runAsGroup ?? podSecurity.runAsGroup
      if (security.runAsNonRoot === false || !(uid > 0)) found.push(`${at}: may run as root`)
      if (security.allowPrivilegeEscalation !== false)
        found.push(`${at}: privilege escalation allowed`)
      if (security.privileged === true) found.push(`${at}: privileged`)
      if (security.readOnlyRootFilesystem !== true) found.push(`${at}: root filesystem writable`)
      if (!(security.capabilities?.drop ?? []).includes('ALL'))
        found.push(`${at}: capabilities not dropped`)
      if ((security.capabilities?.add ?? []).length > 0) found.push(`${at}: adds capabilities`)
      const resources = container.resources ?? {}
      for (const [kind, name] of [
        ['requests', 'cpu'],
        ['requests', 'memory'],
        ['limits', 'memory'],
      ] as const)
        if (!resources[kind]?.[name]) found.push(`${at}: no ${kind}.${name}`)
      found.push(...checkImage(at, container.image ?? '', images))
      if (isAppImage(container.image ?? '')) {
        if (uid !== 1000 || gid !== 1000) found.push(`${at}: our images run as uid/gid 1000`)
        const mounts = new Map(
          (container.volumeMounts ?? []).map((m: Loose) => [m.mountPath, m.name] as const),
        )
        const needed = ['/tmp']
        if (imageName(container.image) === 'groundwork-web')
          needed.push('/app/apps/web/.next/cache')
        for (const path of needed) {
          const volume = (pod.volumes ?? []).find((v: Loose) => v.name === mounts.get(path))
          if (!volume?.emptyDir) found.push(`${at}: no writable emptyDir at ${path}`)
        }
      }
    }
  }
  return found
}

function checkImage(
  at: string,
  image: string,
  images: { release: { registry: string; tag: string } } | 'unset',
) {
  const tag = imageTag(image)
  if (isAppImage(image)) {
    if (images === 'unset')
      return image === imageName(image)
        ? []
        : [`${at}: ${image}: an overlay leaves our images to deploy.sh (no registry, no tag)`]
    const expected = `${images.release.registry}/${imageName(image)}:${images.release.tag}`
    return image === expected ? [] : [`${at}: image ${image}, expected ${expected}`]
  }
  if (!tag) return [`${at}: image ${image} has no tag`]
  if (tag === 'latest') return [`${at}: image ${image} is "latest"`]
  if (!/\d/.test(tag)) return [`${at}: image ${image} is not pinned to a version`]
  if (!image.split('/')[0]?.includes('.')) return [`${at}: image ${image} names no registry`]
  return []
}

/** Long-running pods have all three probes; the apps' use the contract's paths. */
function checkProbes(objects: K8sObject[]) {
  const found: string[] = []
  const paths: Record<string, Record<string, string>> = {
    api: { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/readyz' },
    worker: { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/readyz' },
    // The web app serves /healthz only (its readiness is the API's).
    web: { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/healthz' },
  }
  for (const { object, where, containers } of workloads(objects)) {
    if (!['Deployment', 'StatefulSet'].includes(object.kind)) continue
    for (const container of containers) {
      const ports = new Set(
        (container.ports ?? []).flatMap((p: Loose) => [p.name, p.containerPort]),
      )
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const spec = container[probe]
        if (!spec) {
          found.push(`${where} container ${container.name}: no ${probe}`)
          continue
        }
        const port = spec.httpGet?.port ?? spec.tcpSocket?.port
        if (port !== undefined && !ports.has(port))
          found.push(`${where} ${probe}: port ${port} is not one of the container's`)
        const expected = paths[object.metadata.name]?.[probe]
        if (object.kind === 'Deployment' && expected && spec.httpGet?.path !== expected)
          found.push(
            `${where} ${probe}: expected httpGet ${expected}, found ${JSON.stringify(spec)}`,
          )
      }
    }
  }
  return found
}

/**
 * Kubernetes kills a pod terminationGracePeriodSeconds after SIGTERM. The apps need their
 * preStop sleep, their drain delay and their in-flight timeout, plus 5 s to flush
 * telemetry and exit (README "Graceful termination").
 */
export const GRACE_MARGIN_MS = 5_000
/** The web server's allowance for in-flight requests (it has no setting of its own). */
export const WEB_IN_FLIGHT_MS = 10_000

function checkGracePeriods(objects: K8sObject[]) {
  const found: string[] = []
  for (const app of APPS) {
    const deployment = find(objects, 'Deployment', app)
    if (!deployment) {
      found.push(`Deployment/${app} is missing`)
      continue
    }
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]
    const env = envOf(container)
    const number = (name: string) => {
      const entry = env.get(name)
      return entry && /^\d+$/.test(entry.value ?? '') ? Number(entry.value) : undefined
    }
    const required =
      app === 'api'
        ? ['SHUTDOWN_DRAIN_DELAY_MS', 'SHUTDOWN_TIMEOUT_MS']
        : app === 'worker'
          ? ['SHUTDOWN_TIMEOUT_MS']
          : []
    for (const name of required)
      if (number(name) === undefined) found.push(`Deployment/${app}: ${name} is not set explicitly`)
    const preStop = (container.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000
    const drain = number('SHUTDOWN_DRAIN_DELAY_MS') ?? 0
    const inFlight = app === 'web' ? WEB_IN_FLIGHT_MS : (number('SHUTDOWN_TIMEOUT_MS') ?? 0)
    const needed = preStop + drain + inFlight + GRACE_MARGIN_MS
    const grace = (pod.terminationGracePeriodSeconds ?? 30) * 1000
    if (grace < needed)
      found.push(
        `Deployment/${app}: terminationGracePeriodSeconds ${grace / 1000} < ${needed / 1000} (preStop ${preStop} + drain ${drain} + in-flight ${inFlight} + margin ${GRACE_MARGIN_MS} ms)`,
      )
  }
  return found
}

function checkDisruptionBudgets(objects: K8sObject[]) {
  const budgets = objects.filter((object) => object.kind === 'PodDisruptionBudget')
  return workloads(objects)
    .filter(({ object }) => ['Deployment', 'StatefulSet'].includes(object.kind))
    .filter(({ podLabels }) => !budgets.some((budget) => selects(budget.spec?.selector, podLabels)))
    .map(({ where }) => `${where}: no PodDisruptionBudget selects its pods`)
}

function checkSpread(objects: K8sObject[]) {
  const found: string[] = []
  for (const { object, where, pod, podLabels } of workloads(objects)) {
    if (object.kind !== 'Deployment') continue
    for (const key of ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']) {
      const constraint = (pod.topologySpreadConstraints ?? []).find(
        (c: Loose) => c.topologyKey === key,
      )
      if (!constraint || !selects(constraint.labelSelector, podLabels))
        found.push(`${where}: not spread over ${key}`)
    }
  }
  return found
}

function checkAutoscaling(objects: K8sObject[]) {
  const found: string[] = []
  const scaled = new Map<string, string>()
  const target = (where: string, name: string) => {
    if (!find(objects, 'Deployment', name))
      found.push(`${where}: scales Deployment/${name}, which does not exist`)
    if (scaled.has(name))
      found.push(`${where}: Deployment/${name} already scaled by ${scaled.get(name)}`)
    scaled.set(name, where)
  }
  for (const hpa of objects.filter((object) => object.kind === 'HorizontalPodAutoscaler')) {
    const where = `HorizontalPodAutoscaler/${hpa.metadata.name}`
    if (hpa.spec.scaleTargetRef.kind !== 'Deployment')
      found.push(`${where}: does not scale a Deployment`)
    target(where, hpa.spec.scaleTargetRef.name)
    if (!(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas))
      found.push(`${where}: replicas ${hpa.spec.minReplicas}..${hpa.spec.maxReplicas}`)
  }
  for (const scaledObject of objects.filter((object) => object.kind === 'ScaledObject')) {
    const where = `ScaledObject/${scaledObject.metadata.name}`
    target(where, scaledObject.spec.scaleTargetRef.name)
    // The worker runs the outbox relay and the schedules: zero pods would never wake up.
    if (!(scaledObject.spec.minReplicaCount >= 1)) found.push(`${where}: may scale to zero`)
    for (const trigger of scaledObject.spec.triggers ?? []) {
      const auth = trigger.authenticationRef?.name
      if (auth && !find(objects, 'TriggerAuthentication', auth))
        found.push(
          `${where}: trigger ${trigger.name} uses TriggerAuthentication/${auth}, which does not exist`,
        )
    }
  }
  for (const [app, kind] of [
    ['api', 'HorizontalPodAutoscaler'],
    ['web', 'HorizontalPodAutoscaler'],
    ['worker', 'ScaledObject'],
  ] as const)
    if (!scaled.get(app)?.startsWith(kind)) found.push(`Deployment/${app}: not scaled by a ${kind}`)
  for (const name of scaled.keys())
    if (find(objects, 'Deployment', name)?.spec?.replicas !== undefined)
      found.push(
        `Deployment/${name}: sets replicas, which every apply would reset under its autoscaler`,
      )
  return found
}

/** Names of env vars whose value is a credential: only ever from a Secret. */
const SECRET_ENV =
  /(^|_)(PASSWORD|SECRET|TOKEN|DSN)$|_KEY$|(^|_)DATABASE_URL$|^REDIS_URL$|^SMTP_URL$/
/** Literal values that hold a credential, wherever they appear. */
const SECRET_VALUES: Array<[RegExp, string]> = [
  [/:\/\/[^/\s:@{}]*:(?!\{\{)[^@\s/]+@/, 'a URL with a password'],
  [/^[A-Za-z0-9+/]{43}=$/, 'a base64 32-byte key'],
  [/whsec_|sk_live_|sk_test_|ghp_|AKIA[0-9A-Z]{16}|-----BEGIN/, 'a known secret format'],
]

function checkSecrets(objects: K8sObject[]) {
  const found: string[] = []
  for (const object of objects)
    if (object.kind === 'Secret')
      found.push(
        `Secret/${object.metadata.name}: secrets come from External Secrets, never the manifests`,
      )
  const externalSecrets = objects.filter((object) => object.kind === 'ExternalSecret')
  for (const externalSecret of externalSecrets) {
    const store = externalSecret.spec?.secretStoreRef
    if (store?.kind !== 'ClusterSecretStore' || store?.name !== 'aws-secrets-manager')
      found.push(
        `ExternalSecret/${externalSecret.metadata.name}: not read from the aws-secrets-manager store`,
      )
  }
  for (const ref of secretReferences(objects)) {
    const source = externalSecrets.find(
      (es) => (es.spec?.target?.name ?? es.metadata.name) === ref.name,
    )
    if (!source) {
      found.push(`${ref.where}: Secret ${ref.name} is made by no ExternalSecret`)
      continue
    }
    const keys = externalSecretKeys(source)
    if (ref.key && keys && !keys.has(ref.key))
      found.push(`${ref.where}: Secret ${ref.name} has no key ${ref.key}`)
  }
  for (const { where, containers } of workloads(objects))
    for (const container of containers)
      for (const entry of container.env ?? [])
        if (SECRET_ENV.test(entry.name) && entry.valueFrom?.secretKeyRef === undefined)
          found.push(`${where} env ${entry.name}: a credential must come from a Secret`)
  for (const object of objects)
    for (const [path, value] of strings(object))
      for (const [pattern, what] of SECRET_VALUES)
        if (pattern.test(value))
          found.push(`${object.kind}/${object.metadata.name} ${path}: ${what}`)
  return found
}

function checkNetwork(objects: K8sObject[]) {
  const found: string[] = []
  const policies = objects.filter((object) => object.kind === 'NetworkPolicy')
  const denyAll = policies.some(
    (p) =>
      Object.keys(p.spec?.podSelector ?? {}).length === 0 &&
      ['Ingress', 'Egress'].every((t) => p.spec?.policyTypes?.includes(t)) &&
      !p.spec?.ingress?.length &&
      !p.spec?.egress?.length,
  )
  if (!denyAll) found.push('no default-deny NetworkPolicy (all pods, ingress and egress, no rules)')
  const services = objects.filter((object) => object.kind === 'Service')
  const pods = workloads(objects)
  for (const service of services) {
    if (service.spec?.type === 'ExternalName') continue
    const backing = pods.find(({ podLabels }) =>
      selects({ matchLabels: service.spec?.selector }, podLabels),
    )
    if (!backing) {
      found.push(`Service/${service.metadata.name}: selects no pods`)
      continue
    }
    const ports = new Set(
      backing.containers.flatMap((c) => (c.ports ?? []).map((p: Loose) => p.name)),
    )
    for (const port of service.spec?.ports ?? [])
      if (typeof port.targetPort === 'string' && !ports.has(port.targetPort))
        found.push(
          `Service/${service.metadata.name}: target port ${port.targetPort} is not the pods'`,
        )
  }
  const ingresses = objects.filter((object) => object.kind === 'Ingress')
  if (ingresses.length === 0) found.push('no Ingress')
  for (const ingress of ingresses) {
    const hosts = (ingress.spec?.rules ?? []).map((rule: Loose) => rule.host)
    const tls = (ingress.spec?.tls ?? []).flatMap((entry: Loose) => entry.hosts ?? [])
    if (hosts.length < 2 || hosts.some((host: string) => !tls.includes(host)))
      found.push(
        `Ingress/${ingress.metadata.name}: hosts ${hosts} not all served over TLS (${tls})`,
      )
    for (const rule of ingress.spec?.rules ?? [])
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend?.service
        const service = find(objects, 'Service', backend?.name)
        if (!service?.spec?.ports?.some((p: Loose) => p.name === backend?.port?.name))
          found.push(
            `Ingress/${ingress.metadata.name}: ${rule.host} routes to a missing Service port`,
          )
      }
  }
  return found
}

/**
 * Each PodMonitor scrapes the pods of a Deployment, names its job by a label those pods
 * carry (the alerts read job="api" and job="worker"), finds the port it scrapes by name
 * on those pods, and a NetworkPolicy lets the scrape through the default deny on that port.
 */
function checkMonitoring(objects: K8sObject[]) {
  const found: string[] = []
  const policies = objects.filter((object) => object.kind === 'NetworkPolicy')
  for (const monitor of objects.filter((object) => object.kind === 'PodMonitor')) {
    const where = `PodMonitor/${monitor.metadata.name}`
    const pods = workloads(objects).filter(
      ({ object, podLabels }) =>
        object.kind === 'Deployment' && selects(monitor.spec?.selector, podLabels),
    )
    if (pods.length === 0) {
      found.push(`${where}: selects no Deployment's pods`)
      continue
    }
    const jobLabel = monitor.spec?.jobLabel
    for (const { where: workload, podLabels } of pods)
      if (!jobLabel || podLabels[jobLabel] !== monitor.metadata.name)
        found.push(
          `${where}: job label ${jobLabel} of ${workload} is not "${monitor.metadata.name}"`,
        )
    for (const endpoint of monitor.spec?.podMetricsEndpoints ?? []) {
      for (const { object, where: workload } of pods) {
        const containers: Loose[] = object.spec?.template?.spec?.containers ?? []
        if (
          !containers.some((container) =>
            (container.ports ?? []).some((port: Loose) => port.name === endpoint.port),
          )
        )
          found.push(`${where}: ${workload} has no container port named ${endpoint.port}`)
      }
      const allowed = policies.some(
        (policy) =>
          pods.every(({ podLabels }) => selectsPods(policy.spec?.podSelector, podLabels)) &&
          (policy.spec?.ingress ?? []).some((rule: Loose) =>
            (rule.ports ?? []).some((port: Loose) => port.port === endpoint.port),
          ),
      )
      if (!allowed)
        found.push(`${where}: no NetworkPolicy lets Prometheus reach port ${endpoint.port}`)
    }
  }
  return found
}

/**
 * Every Deployment that exports traces (OTEL_EXPORTER_OTLP_ENDPOINT in its env or in a
 * ConfigMap it reads) can reach the endpoint through the default deny: a NetworkPolicy
 * selecting its pods has an egress rule admitting the endpoint's port, to pods (a cluster
 * Service's name: in its namespace, or another one by namespaceSelector) or to addresses
 * (any other host). A blocked export fails silently (OpenTelemetry's diagnostic logger).
 */
function checkTracing(objects: K8sObject[]) {
  const found: string[] = []
  const policies = objects.filter(
    (object) =>
      object.kind === 'NetworkPolicy' &&
      (object.spec?.policyTypes ?? ['Ingress']).includes('Egress'),
  )
  for (const { object, where, podLabels, containers } of workloads(objects)) {
    if (object.kind !== 'Deployment') continue
    for (const container of containers) {
      const endpoint = tracesEndpoint(objects, container)
      if (endpoint === undefined) continue
      let url: URL
      try {
        url = new URL(endpoint)
      } catch {
        found.push(`${where}: OTEL_EXPORTER_OTLP_ENDPOINT ${endpoint} is not a URL`)
        continue
      }
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
      // name, or name.namespace.svc[.cluster.local]: a Service in the cluster.
      const labels = url.hostname.split('.')
      const inCluster = labels.length === 1 || labels[2] === 'svc'
      const namespace = (labels.length > 1 ? labels[1] : object.metadata.namespace) ?? ''
      const admits = (rule: Loose) => {
        const ports: Loose[] = rule.ports ?? []
        const portOpen =
          ports.length === 0 ||
          ports.some(
            (p) =>
              (p.protocol ?? 'TCP') === 'TCP' &&
              (p.port === undefined ||
                p.port === port ||
                (typeof p.port === 'number' && p.endPort >= port && p.port <= port)),
          )
        const peers: Loose[] = rule.to ?? []
        const peerOpen =
          peers.length === 0 ||
          peers.some((peer) =>
            inCluster
              ? !peer.ipBlock &&
                (peer.namespaceSelector
                  ? selectsPods(peer.namespaceSelector, {
                      'kubernetes.io/metadata.name': namespace,
                    })
                  : namespace === object.metadata.namespace)
              : peer.ipBlock !== undefined,
          )
        return portOpen && peerOpen
      }
      const allowed = policies.some(
        (policy) =>
          selectsPods(policy.spec?.podSelector, podLabels) &&
          (policy.spec?.egress ?? []).some(admits),
      )
      if (!allowed)
        found.push(
          `${where}: exports traces to ${endpoint}, but no NetworkPolicy lets its pods reach ${url.hostname} on port ${port}`,
        )
    }
  }
  return found
}

/** A container's OTEL_EXPORTER_OTLP_ENDPOINT: its env, else a ConfigMap it reads whole. */
function tracesEndpoint(objects: K8sObject[], container: Loose): string | undefined {
  const entry = envOf(container).get('OTEL_EXPORTER_OTLP_ENDPOINT')
  if (entry) return entry.value || undefined
  // The last envFrom source wins.
  for (const source of [...(container.envFrom ?? [])].reverse()) {
    const configMap = find(objects, 'ConfigMap', source.configMapRef?.name)
    const value = configMap?.data?.OTEL_EXPORTER_OTLP_ENDPOINT
    if (value) return value
  }
  return undefined
}

/** A NetworkPolicy's podSelector: matchLabels and `In` expressions. */
function selectsPods(selector: Loose, labels: Record<string, string>): boolean {
  const matchLabels: Record<string, string> = selector?.matchLabels ?? {}
  const expressions: Loose[] = selector?.matchExpressions ?? []
  return (
    Object.entries(matchLabels).every(([k, v]) => labels[k] === v) &&
    expressions.every(
      (e) => e.operator === 'In' && (e.values as string[]).includes(labels[e.key] ?? ''),
    )
  )
}

/** The contracts with other parts: the migration Job, the backup, PgBouncer's settings. */
function checkContracts(objects: K8sObject[]) {
  const found: string[] = []
  const migrate = find(objects, 'Job', 'groundwork-migrate')
  const job = migrate?.spec?.template?.spec?.containers?.[0]
  if (!job) found.push('Job/groundwork-migrate is missing')
  else {
    if (imageName(job.image) !== 'groundwork-api')
      found.push('Job/groundwork-migrate: not the api image')
    if (
      JSON.stringify(job.command) !==
      JSON.stringify(['node', 'packages/db/src/migrate/cli.ts', 'deploy'])
    )
      found.push(`Job/groundwork-migrate: command ${JSON.stringify(job.command)}`)
    for (const name of ['MIGRATION_DATABASE_URL', 'DATABASE_URL', 'WORKER_DATABASE_URL'])
      if (!envOf(job).get(name)?.valueFrom?.secretKeyRef)
        found.push(`Job/groundwork-migrate: no ${name}`)
  }
  const backup = find(objects, 'CronJob', 'groundwork-backup')
  const dump = backup?.spec?.jobTemplate?.spec?.template?.spec?.containers?.[0]
  if (backup) {
    if (imageName(dump?.image ?? '') !== 'groundwork-worker')
      found.push('CronJob/groundwork-backup: not the worker image')
    if (
      JSON.stringify(dump?.command) !==
      JSON.stringify(['node', 'packages/db/src/backup/cli.ts', 'backup'])
    )
      found.push(`CronJob/groundwork-backup: command ${JSON.stringify(dump?.command)}`)
    const env = envOf(dump)
    if (!/^(s3:\/\/[a-z0-9][a-z0-9.-]+\/|\/)/.test(env.get('BACKUP_DESTINATION')?.value ?? ''))
      found.push(
        'CronJob/groundwork-backup: BACKUP_DESTINATION is not a directory or s3://bucket/prefix',
      )
    if (!/^\d+$/.test(env.get('BACKUP_RETENTION_DAYS')?.value ?? ''))
      found.push('CronJob/groundwork-backup: BACKUP_RETENTION_DAYS is not a number')
    if (!env.get('MIGRATION_DATABASE_URL')?.valueFrom?.secretKeyRef)
      found.push('CronJob/groundwork-backup: no MIGRATION_DATABASE_URL from the Secret')
    if (backup.spec?.concurrencyPolicy !== 'Forbid')
      found.push('CronJob/groundwork-backup: may overlap itself')
  }
  // The apps reach Postgres through PgBouncer; migrations and backups never do.
  const main = find(objects, 'ExternalSecret', 'groundwork')?.spec?.target?.template?.data ?? {}
  for (const key of ['DATABASE_URL', 'WORKER_DATABASE_URL'])
    if (!String(main[key] ?? '').includes('@pgbouncer:6432/'))
      found.push(`Secret groundwork ${key}: not through PgBouncer`)
  if (String(main.MIGRATION_DATABASE_URL ?? '').includes('pgbouncer'))
    found.push(
      'Secret groundwork MIGRATION_DATABASE_URL: through PgBouncer (migrations need a session)',
    )
  const pgbouncer = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pgbouncer-config'),
  )
  const ini = `${pgbouncer?.data?.['pgbouncer.ini'] ?? ''}\n${pgbouncer?.data?.['databases.ini'] ?? ''}`
  if (!/^pool_mode = transaction$/m.test(ini)) found.push('PgBouncer: not in transaction mode')
  // Managed Postgres (an ExternalName) is reached over TLS; pools.ini is read last.
  const pools = pgbouncer?.data?.['pools.ini'] ?? ''
  const sslmode = [...`${ini}\n${pools}`.matchAll(/^server_tls_sslmode = (\S+)$/gm)].pop()?.[1]
  if (
    find(objects, 'Service', 'postgres')?.spec?.type === 'ExternalName' &&
    !/^(require|verify-ca|verify-full)$/.test(sslmode ?? '')
  )
    found.push(
      `PgBouncer: reaches the managed Postgres with server_tls_sslmode ${sslmode}, not TLS`,
    )
  const statement = /statement_timeout = (\d+)/.exec(ini)?.[1]
  const idle = /idle_in_transaction_session_timeout = (\d+)/.exec(ini)?.[1]
  for (const app of ['api', 'worker']) {
    const env = envOf(find(objects, 'Deployment', app)?.spec?.template?.spec?.containers?.[0] ?? {})
    const timeout = env.get('DATABASE_STATEMENT_TIMEOUT_MS')?.value
    if (timeout !== statement || String(Number(timeout) * 2) !== idle)
      found.push(
        `PgBouncer: server timeouts ${statement}/${idle} ms differ from ${app}'s DATABASE_STATEMENT_TIMEOUT_MS ${timeout}`,
      )
  }
  return found
}

/** The base's placeholders, which every environment must replace. */
function checkPlaceholders(objects: K8sObject[]) {
  const found: string[] = []
  for (const object of objects)
    for (const [path, value] of strings(object))
      if (value === 'unset' || value.includes('unset.invalid') || value.includes('192.0.2.0/32'))
        found.push(`${object.kind}/${object.metadata.name} ${path}: placeholder "${value}" left`)
  return found
}
