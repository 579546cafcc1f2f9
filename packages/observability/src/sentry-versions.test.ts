import { fileURLToPath } from 'node:url'
import { installedPackage } from '@repo/testing'
import { describe, expect, it } from 'vitest'

// @sentry/nextjs (web) and @sentry/node (api, worker) must be one release, so one
// @sentry/core is installed and events look the same from every service. @sentry/nextjs
// stays on 11.5: from 11.6 on it depends on @sentry/cloudflare releases that the npm
// registry our build machines reach does not serve (checked 2026-12-01; the extending
// guide's "Observability" section). Move both together when it does.
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))

describe('Sentry packages move together', () => {
  it('web and the Node services use one @sentry/core', () => {
    const nextjs = installedPackage(`${repoRoot}apps/web`, '@sentry/nextjs')
    const node = installedPackage(`${repoRoot}packages/observability`, '@sentry/node')
    const coreOfNext = installedPackage(nextjs.dir, '@sentry/core')
    const coreOfNode = installedPackage(node.dir, '@sentry/core')
    expect(nextjs.version).toBe(node.version)
    expect(coreOfNext.version).toBe(coreOfNode.version)
    expect(coreOfNext.dir).toBe(coreOfNode.dir)
  })
})
