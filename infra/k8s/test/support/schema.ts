import {
  ClusterSecretStore,
  ExternalSecret,
} from '@kubernetes-models/external-secrets/external-secrets.io/v1'
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1'
import {
  PodMonitor,
  PrometheusRule,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { CronJob, Job } from 'kubernetes-models/batch/v1'
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1'
import type { K8sObject } from './render.ts'

/**
 * The Kubernetes (1.34) and CRD schemas of every kind the manifests may hold, as shipped
 * by kubernetes-models (KEDA, External Secrets Operator and Prometheus Operator CRDs
 * included). A kind missing here is an error, so nothing reaches a cluster unvalidated.
 */
const MODELS: Record<string, { prototype: { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'batch/v1/CronJob': CronJob,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'external-secrets.io/v1/ExternalSecret': ExternalSecret,
  'external-secrets.io/v1/ClusterSecretStore': ClusterSecretStore,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
}

/**
 * Wraps `value` so every property the validator reads, and every object whose keys it
 * lists (a map such as labels), is recorded: a key it never reads is a field the schema
 * does not know. That is kubectl's strict field validation (a typo like `readinesProbe`
 * would otherwise pass, and the probe silently vanish), done offline.
 */
function track(value: unknown, path: string, read: Set<string>, listed: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value
  return new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver)
      if (typeof key !== 'string') return child
      read.add(`${path}/${key}`)
      return track(child, `${path}/${key}`, read, listed)
    },
    ownKeys(target) {
      listed.add(path)
      return Reflect.ownKeys(target)
    },
  })
}

function unknownFields(value: unknown, path: string, read: Set<string>, listed: Set<string>) {
  const unknown: string[] = []
  if (value === null || typeof value !== 'object') return unknown
  const isMap = listed.has(path) && !Array.isArray(value)
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}/${key}`
    if (!isMap && !Array.isArray(value) && !read.has(childPath)) {
      unknown.push(childPath || '/')
      continue
    }
    unknown.push(...unknownFields(child, childPath, read, listed))
  }
  return unknown
}

/** Schema violations and unknown fields of one object; empty when it is valid. */
export function schemaErrors(object: K8sObject): string[] {
  const where = `${object.kind}/${object.metadata?.name}`
  const model = MODELS[`${object.apiVersion}/${object.kind}`]
  if (!model) return [`${where}: no schema for ${object.apiVersion} ${object.kind}`]
  const read = new Set<string>()
  const listed = new Set<string>()
  const errors: string[] = []
  try {
    model.prototype.validate.call(track(object, '', read, listed))
  } catch (error) {
    errors.push(`${where}: ${(error as Error).message}`)
  }
  for (const field of unknownFields(object, '', read, listed))
    errors.push(`${where}: unknown field ${field}`)
  return errors
}
