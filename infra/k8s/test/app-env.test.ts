import { randomBytes } from 'node:crypto'
import { parseEnv } from '@repo/config'
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { apiEnvSchema } from '../../../apps/api/src/env.ts'
import { webEnvSchema } from '../../../apps/web/lib/env.ts'
import { workerEnvSchema } from '../../../apps/worker/src/env.ts'
import { ENVIRONMENTS, type K8sObject, type Loose, renderRelease } from './support/render.ts'
import { find } from './support/workloads.ts'

// The apps validate their environment at start-up and exit on what is wrong; in
// production (NODE_ENV unset or production) they demand real secrets and URLs. This runs
// each app's own schema on the environment its Deployment would give it, so a manifest
// that would crash-loop fails here instead.

/** What the secret store would hold: realistic values, none of them the published ones. */
const REMOTE: Record<string, string> = {
  APP_DB_PASSWORD: randomBytes(24).toString('hex'),
  WORKER_DB_PASSWORD: randomBytes(24).toString('hex'),
  POSTGRES_PASSWORD: randomBytes(24).toString('hex'),
  MIGRATION_DATABASE_URL: `postgresql://groundwork_owner:${randomBytes(24).toString('hex')}@db.example.com:5432/groundwork`,
  REDIS_HOST: 'redis.example.com',
  REDIS_PORT: '6379',
  REDIS_PASSWORD: randomBytes(24).toString('hex'),
  MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
}
/** What an operator fills into the integrations secret: the one the worker cannot do without. */
const INTEGRATIONS: Record<string, string> = {
  SMTP_URL: 'smtps://mailer:app-password@smtp.example.com:465',
}

/** The value External Secrets would write for `key` of the Secret `name`. */
function secretValue(objects: K8sObject[], name: string, key: string): string | undefined {
  const externalSecret = objects.find(
    (o) => o.kind === 'ExternalSecret' && o.spec.target.name === name,
  )
  const template: string | undefined = externalSecret?.spec.target.template?.data?.[key]
  if (template)
    return template.replace(/\{\{ \.(\w+) \}\}/g, (_, property: string) => {
      const value = REMOTE[property]
      if (value === undefined) throw new Error(`the template of ${key} uses unknown ${property}`)
      return value
    })
  // A copy of whatever the remote secret holds.
  if (externalSecret?.spec.dataFrom) return INTEGRATIONS[key]
  const fetched = externalSecret?.spec.data?.find((d: Loose) => d.secretKey === key)
  return fetched ? REMOTE[fetched.remoteRef.property] : undefined
}

/** The environment Kubernetes gives the app's container. */
function containerEnv(objects: K8sObject[], app: string): Record<string, string> {
  const container = find(objects, 'Deployment', app)?.spec.template.spec.containers[0]
  const env: Record<string, string> = {}
  for (const source of container.envFrom ?? []) {
    const configMap = find(objects, 'ConfigMap', source.configMapRef?.name)
    if (!configMap) throw new Error(`${app}: envFrom names a missing ConfigMap`)
    Object.assign(env, configMap.data)
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = entry.value
    const ref = entry.valueFrom?.secretKeyRef
    if (!ref) continue
    const value = secretValue(objects, ref.name, ref.key)
    // Optional integrations are simply absent from a fresh secret store.
    if (value !== undefined) env[entry.name] = value
    else if (!ref.optional) throw new Error(`${app}: ${entry.name} has no value in ${ref.name}`)
  }
  return env
}

const SCHEMAS: Array<[string, z.ZodType]> = [
  ['api', apiEnvSchema],
  ['worker', workerEnvSchema],
  ['web', webEnvSchema],
]

describe.each(ENVIRONMENTS)('in %s', (environment) => {
  it.each(SCHEMAS)(
    'the %s starts with the environment its Deployment gives it',
    async (app, schema) => {
      const objects = await renderRelease(environment)
      const env = containerEnv(objects, app)
      expect(env.NODE_ENV).toBe('production')
      expect(() => parseEnv(schema, env)).not.toThrow()
    },
  )
})

describe('the check itself', () => {
  it('fails when a value production requires is missing', async () => {
    const objects = await renderRelease('production')
    const api = find(objects, 'Deployment', 'api')?.spec.template.spec.containers[0]
    api.env = api.env.filter((e: Loose) => e.name !== 'TRUST_PROXY')
    expect(() => parseEnv(apiEnvSchema, containerEnv(objects, 'api'))).toThrow(/TRUST_PROXY/)
    const config = objects.find((o) => o.metadata.name.startsWith('groundwork-env')) as K8sObject
    delete config.data.APP_URL
    expect(() => parseEnv(workerEnvSchema, containerEnv(objects, 'worker'))).toThrow(/APP_URL/)
  })
})
