import { describe, expect, it } from 'vitest'
import { violations } from './support/invariants.ts'
import {
  ENVIRONMENTS,
  K8S_DIR,
  type K8sObject,
  kustomize,
  renderRelease,
  TEST_REGISTRY,
  TEST_TAG,
} from './support/render.ts'
import { schemaErrors } from './support/schema.ts'
import { find } from './support/workloads.ts'

const release = { release: { registry: TEST_REGISTRY, tag: TEST_TAG } }

describe.each(ENVIRONMENTS)('the %s environment', (environment) => {
  it('renders through deploy.sh with every invariant and schema holding', async () => {
    const objects = await renderRelease(environment)
    expect(violations(objects, release)).toEqual([])
    // The checks saw the whole environment, not an empty or partial render.
    for (const [kind, name] of [
      ['Deployment', 'api'],
      ['Deployment', 'web'],
      ['Deployment', 'worker'],
      ['Deployment', 'pgbouncer'],
      ['Job', 'groundwork-migrate'],
      ['ScaledObject', 'worker'],
      ['ExternalSecret', 'groundwork'],
      ['NetworkPolicy', 'default-deny'],
      ['Ingress', 'groundwork'],
    ])
      expect(find(objects, kind as string, name as string), `${kind}/${name}`).toBeDefined()
  })

  it('renders as is with kubectl kustomize, leaving our images to deploy.sh', async () => {
    const objects = await kustomize(`${K8S_DIR}/overlays/${environment}`)
    expect(violations(objects, 'unset')).toEqual([])
  })
})

describe('environment specifics', () => {
  const host = (objects: K8sObject[]) =>
    find(objects, 'Ingress', 'groundwork')?.spec.rules.map((r: { host: string }) => r.host)

  it('gives a preview its own namespace, hosts, URLs and database', async () => {
    const objects = await renderRelease('preview', { previewId: '1234' })
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual([
      'groundwork-pr-1234',
    ])
    expect(host(objects)).toEqual([
      'pr-1234.preview.example.com',
      'pr-1234-api.preview.example.com',
    ])
    const env = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('groundwork-env'),
    )
    expect(env?.data).toMatchObject({
      APP_URL: 'https://pr-1234.preview.example.com',
      API_PUBLIC_URL: 'https://pr-1234-api.preview.example.com',
      SENTRY_ENVIRONMENT: 'preview',
    })
    expect(find(objects, 'StatefulSet', 'postgres')).toBeDefined()
    expect(find(objects, 'StatefulSet', 'redis')).toBeDefined()
    // Its data dies with it: no backups, no managed database.
    expect(find(objects, 'CronJob', 'groundwork-backup')).toBeUndefined()
    expect(find(objects, 'Service', 'postgres')?.spec.type).not.toBe('ExternalName')
    // Two previews never share a name or a host.
    const other = await renderRelease('preview', { previewId: '7' })
    expect(host(other)).toEqual(['pr-7.preview.example.com', 'pr-7-api.preview.example.com'])
  })

  it('points staging and production at their own managed data and secrets', async () => {
    for (const environment of ['staging', 'production'] as const) {
      const objects = await renderRelease(environment)
      expect(find(objects, 'Namespace', `groundwork-${environment}`)).toBeDefined()
      expect(find(objects, 'Service', 'postgres')?.spec).toMatchObject({ type: 'ExternalName' })
      const keys = find(objects, 'ExternalSecret', 'groundwork')?.spec.data.map(
        (d: { remoteRef: { key: string } }) => d.remoteRef.key,
      )
      expect(new Set(keys)).toEqual(new Set([`groundwork/${environment}`]))
      expect(find(objects, 'CronJob', 'groundwork-backup')).toBeDefined()
    }
  })

  it('validates the cluster-wide prerequisites against their schemas', async () => {
    const objects = await kustomize(`${K8S_DIR}/cluster`)
    expect(objects.map((o) => o.kind)).toEqual(['ClusterSecretStore'])
    expect(objects.flatMap(schemaErrors)).toEqual([])
  })
})
