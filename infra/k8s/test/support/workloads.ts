import type { K8sObject, Loose } from './render.ts'

export const APP_IMAGES = ['groundwork-api', 'groundwork-web', 'groundwork-worker'] as const
/** The Deployments that run our own images and serve the contract's probes. */
export const APPS = ['api', 'web', 'worker'] as const

export interface Workload {
  object: K8sObject
  where: string
  pod: Loose
  podLabels: Record<string, string>
  containers: Loose[]
}

/** Every object that runs pods, with its pod template. */
export function workloads(objects: K8sObject[]): Workload[] {
  const found: Workload[] = []
  for (const object of objects) {
    const template =
      object.kind === 'CronJob'
        ? object.spec?.jobTemplate?.spec?.template
        : ['Deployment', 'StatefulSet', 'Job'].includes(object.kind)
          ? object.spec?.template
          : undefined
    if (!template) continue
    found.push({
      object,
      where: `${object.kind}/${object.metadata.name}`,
      pod: template.spec ?? {},
      podLabels: template.metadata?.labels ?? {},
      containers: [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])],
    })
  }
  return found
}

/** groundwork-api of ghcr.io/acme/groundwork-api:abc, or of groundwork-api. */
export function imageName(image: string): string {
  const last = image.split('/').pop() ?? image
  return last.split('@')[0]?.split(':')[0] ?? last
}

/** The tag of an image reference, or undefined without one (a digest counts as a tag). */
export function imageTag(image: string): string | undefined {
  const last = image.split('/').pop() ?? image
  if (last.includes('@')) return last.split('@')[1]
  return last.includes(':') ? last.split(':').pop() : undefined
}

export const isAppImage = (image: string) =>
  (APP_IMAGES as readonly string[]).includes(imageName(image))

export function envOf(container: Loose): Map<string, Loose> {
  return new Map((container.env ?? []).map((entry: Loose) => [entry.name, entry]))
}

/** Whether a label selector's matchLabels all hold in `labels`. */
export function selects(selector: Loose, labels: Record<string, string>): boolean {
  const match: Record<string, string> = selector?.matchLabels ?? {}
  return Object.keys(match).length > 0 && Object.entries(match).every(([k, v]) => labels[k] === v)
}

export function find(objects: K8sObject[], kind: string, name: string) {
  return objects.find((object) => object.kind === kind && object.metadata.name === name)
}

/** Every string in a value, with its path. */
export function* strings(value: unknown, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value]
  else if (Array.isArray(value))
    for (const [i, item] of value.entries()) yield* strings(item, `${path}/${i}`)
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) yield* strings(item, `${path}/${key}`)
}

/** The names (and keys) each Secret reference in the render points at. */
export function secretReferences(objects: K8sObject[]) {
  const refs: Array<{ where: string; name: string; key?: string; optional: boolean }> = []
  for (const workload of workloads(objects)) {
    for (const container of workload.containers) {
      for (const entry of container.env ?? []) {
        const ref = entry.valueFrom?.secretKeyRef
        if (ref)
          refs.push({
            where: `${workload.where} ${container.name} env ${entry.name}`,
            name: ref.name,
            key: ref.key,
            optional: ref.optional === true,
          })
      }
      for (const source of container.envFrom ?? [])
        if (source.secretRef)
          refs.push({
            where: `${workload.where} ${container.name} envFrom`,
            name: source.secretRef.name,
            optional: source.secretRef.optional === true,
          })
    }
    for (const volume of workload.pod.volumes ?? [])
      if (volume.secret)
        refs.push({
          where: `${workload.where} volume ${volume.name}`,
          name: volume.secret.secretName,
          optional: volume.secret.optional === true,
        })
  }
  for (const auth of objects.filter((object) => object.kind === 'TriggerAuthentication'))
    for (const ref of auth.spec?.secretTargetRef ?? [])
      refs.push({
        where: `TriggerAuthentication/${auth.metadata.name} ${ref.parameter}`,
        name: ref.name,
        key: ref.key,
        optional: false,
      })
  return refs
}

/**
 * The keys of the Secret an ExternalSecret writes; undefined when it copies whatever the
 * remote secret holds (dataFrom), so any key may exist.
 */
export function externalSecretKeys(externalSecret: K8sObject): Set<string> | undefined {
  const spec = externalSecret.spec ?? {}
  if (spec.dataFrom) return undefined
  const template = spec.target?.template
  const templated = Object.keys(template?.data ?? {})
  const fetched = (spec.data ?? []).map((entry: Loose) => entry.secretKey as string)
  return new Set(
    template && template.mergePolicy !== 'Merge' ? templated : [...fetched, ...templated],
  )
}
