import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  describeFinds,
  type Find,
  nameNeedles,
  publishedNeedles,
  scan,
  scanBuild,
  scanSentinelBuild,
  serverEnvKeys,
} from '../scripts/scan-client-bundle.ts'

// The web app's promise that no server-side value reaches a browser, checked on the
// production build (`pnpm build` first) by scripts/scan-client-bundle.ts, which reads
// every file a browser can download. Two levels (ADR 021):
//
// Every run checks that turbo hands `pnpm build` no server variable (GIT_COMMIT aside,
// which is public by design), then scans the build `pnpm test` already made. With no
// server variable in the build's environment, the only server values a client file could
// hold are those in the source: the published development URLs and secrets key, and the
// defaults that point at this machine (the API's internal URL, the SMTP sink). It also
// looks for the names of every server variable: a name in a client file means a server
// schema was bundled, or client code reads a server variable from process.env.
//
// GROUNDWORK_BUNDLE_SCAN=full also builds the app a second time with a distinctive value
// in every server variable and scans that: the proof that nothing (next.config's `env`, a
// define, a build plugin) copies a value into the bundle at build time. That second build
// takes as long as `pnpm build` (25-45 s on an idle 2-core machine, over two minutes
// beside other work), which would double `pnpm test`; run it when the build's set-up
// changes (next.config.ts, instrumentation-client.ts, Sentry or PostHog, turbo.json's
// build env) and before a release.
const FULL = process.env.GROUNDWORK_BUNDLE_SCAN === 'full'

interface TurboConfig {
  envMode?: string
  globalEnv?: string[]
  globalPassThroughEnv?: string[]
  tasks: Record<string, { env?: string[]; passThroughEnv?: string[] } | undefined>
}

/** The server variables turbo hands `pnpm build` (the web app's `next build`). */
function serverKeysTurboPassesToBuild(): string[] {
  const turbo = JSON.parse(
    readFileSync(join(import.meta.dirname, '..', '..', '..', 'turbo.json'), 'utf8'),
  ) as TurboConfig
  if ((turbo.envMode ?? 'strict') !== 'strict') return serverEnvKeys()
  const patterns = [turbo.tasks.build, turbo.tasks['@repo/web#build']].flatMap((task) => [
    ...(task?.env ?? []),
    ...(task?.passThroughEnv ?? []),
  ])
  const wildcards = [...(turbo.globalEnv ?? []), ...(turbo.globalPassThroughEnv ?? []), ...patterns]
    .filter((pattern) => !pattern.startsWith('!'))
    .map((pattern) => new RegExp(`^${pattern.replace(/[^\w*]/g, '\\$&').replaceAll('*', '.*')}$`))
  return serverEnvKeys().filter((key) => wildcards.some((wildcard) => wildcard.test(key)))
}

function expectNoFinds(finds: Find[]) {
  const report = `Server-side values in client files:\n${describeFinds(finds)}`
  expect(
    finds.map((find) => `${find.file}: ${find.what}`),
    report,
  ).toEqual([])
}

describe('client bundle', () => {
  it('is built by turbo with no server variable but the public GIT_COMMIT', () => {
    expect(serverKeysTurboPassesToBuild()).toEqual(['GIT_COMMIT'])
  })

  it('holds no published server value and no server variable name', () => {
    const { files, finds } = scanBuild()
    expect(files.filter((file) => file.endsWith('.js')).length).toBeGreaterThan(0)
    expectNoFinds(finds)
  })

  it('knows the values a leak would carry, and finds them wherever they are', () => {
    const needles = [...publishedNeedles(), ...nameNeedles()]
    expect(needles.map((needle) => needle.what)).toEqual(
      expect.arrayContaining([
        "DATABASE_URL's development default",
        "REDIS_URL's development default",
        "API_URL's default",
        "SMTP_URL's default",
        'the development secrets key',
        'the server variable name MFA_ENCRYPTION_KEY',
      ]),
    )
    const dir = mkdtempSync(join(tmpdir(), 'bundle-scan-'))
    try {
      const leaky = join(dir, 'leaky.js')
      writeFileSync(leaky, needles.map((needle) => `x(${JSON.stringify(needle.text)});`).join(''))
      expect(scan([leaky], needles)).toHaveLength(needles.length)
      // A public variable whose name ends like a server one's is not a find.
      const clean = join(dir, 'clean.js')
      writeFileSync(clean, 'x(process.env.NEXT_PUBLIC_API_URL, e.API_URL_TEMPLATE)')
      expect(scan([clean], nameNeedles())).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it.runIf(FULL)(
    'ships no server value from a build given a sentinel in each (GROUNDWORK_BUNDLE_SCAN=full)',
    { timeout: 10 * 60_000 },
    async () => {
      const { files, finds, sentinels } = await scanSentinelBuild()
      expect(sentinels).toBeGreaterThan(20)
      expect(files.length).toBeGreaterThan(0)
      expectNoFinds(finds)
    },
  )
})
