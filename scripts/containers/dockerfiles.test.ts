import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dockerfileArg, repoRoot } from './base-images.ts'

// What every image must be, read from its Dockerfile (the images themselves are built and
// run by `pnpm containers:test`, in CI).

const APPS = ['api', 'worker', 'web'] as const
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8')

/** The instructions of a Dockerfile, continuation lines joined, comments dropped. */
function instructions(text: string) {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
}

/** The instructions after the last FROM: what the shipped image is made of. */
function finalStage(text: string) {
  const all = instructions(text)
  const lastFrom = all.findLastIndex((line) => line.startsWith('FROM '))
  return all.slice(lastFrom)
}

describe.each(APPS)('apps/%s/Dockerfile', (app) => {
  const dockerfile = `apps/${app}/Dockerfile`
  const text = read(dockerfile)
  const final = finalStage(text)

  it('builds in stages from a turbo-pruned context and ships only the last one', () => {
    expect(
      instructions(text).filter((line) => line.startsWith('FROM ')).length,
    ).toBeGreaterThanOrEqual(3)
    expect(text).toMatch(new RegExp(`turbo prune @repo/${app}( @repo/[a-z-]+)* --docker`))
    expect(text).toMatch(/pnpm install --frozen-lockfile/)
    if (app !== 'web') expect(text).toMatch(/pnpm install --frozen-lockfile --prod/)
  })

  it('runs as a non-root user, under tini, with a health check', () => {
    const user = final.findLast((line) => line.startsWith('USER '))
    expect(user).toBe('USER 1000:1000')
    expect(final).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]')
    expect(final.some((line) => /^HEALTHCHECK .*CMD .*\/healthz/.test(line))).toBe(true)
    // USER comes after every RUN of the final stage: nothing runs as root after it, and
    // the process cannot write the application's files.
    expect(final.findLastIndex((line) => line.startsWith('RUN '))).toBeLessThan(
      final.indexOf(user as string),
    )
  })

  it('takes its version and commit as build arguments and exposes them to the app', () => {
    expect(final).toContain('ARG APP_VERSION=0.0.0')
    expect(final).toContain('ARG GIT_COMMIT=unknown')
    expect(final.join('\n')).toMatch(/APP_VERSION=\$\{APP_VERSION\}/)
    expect(final.join('\n')).toMatch(/GIT_COMMIT=\$\{GIT_COMMIT\}/)
  })

  it('pins the official Node image by exact version, the same for every app', () => {
    expect(dockerfileArg(dockerfile, 'NODE_IMAGE')).toMatch(/^node:24\.\d+\.\d+-bookworm-slim$/)
    expect(dockerfileArg(dockerfile, 'NODE_IMAGE')).toBe(
      dockerfileArg('apps/api/Dockerfile', 'NODE_IMAGE'),
    )
  })

  it('installs the pnpm and turbo versions the repository uses', () => {
    const packageManager = JSON.parse(read('package.json')).packageManager as string
    expect(`pnpm@${dockerfileArg(dockerfile, 'PNPM_VERSION')}`).toBe(packageManager)
    const require = createRequire(join(repoRoot, 'package.json'))
    expect(dockerfileArg(dockerfile, 'TURBO_VERSION')).toBe(require('turbo/package.json').version)
  })

  it("hands every stage that fetches packages the build machine's CA bundle", () => {
    // A build argument is in scope only in the stage that declares it: a stage FROM base
    // that runs pnpm without declaring it again fails behind a TLS-inspecting proxy.
    const all = instructions(text)
    const starts = all.flatMap((line, index) => (line.startsWith('FROM ') ? [index] : []))
    const fetching = starts
      .map((start, i) => all.slice(start, starts[i + 1]))
      .filter((stage) => stage.some((line) => /^RUN .*\b(pnpm install|npm install)\b/.test(line)))
    expect(fetching.length).toBeGreaterThan(1)
    for (const stage of fetching) expect(stage, stage[0]).toContain('ARG NODE_EXTRA_CA_CERTS')
  })

  it('bakes no secret and no host-specific path into the image', () => {
    // Build secrets go through --mount=type=secret, never ARG (which stays in the history);
    // NEXT_PUBLIC_ values are compiled into the browser's code, so they are public anyway.
    expect(text).not.toMatch(/^ARG (?!NEXT_PUBLIC_)\S*(TOKEN|SECRET|PASSWORD|KEY)\b/m)
    expect(text).not.toMatch(/^ENV .*NODE_EXTRA_CA_CERTS/m)
    expect(text).not.toMatch(/COPY .*\.env\b/)
    expect(text).not.toMatch(/:latest\b/)
  })
})

describe('the worker image', () => {
  it("carries pg_dump of the production server's major for the nightly backup", () => {
    const final = finalStage(read('apps/worker/Dockerfile')).join('\n')
    expect(final).toContain('ARG PG_MAJOR=18')
    expect(final).toContain('ARG PG_CLIENT_SOURCE=pgdg')
    expect(final).toContain('postgresql-client-${PG_MAJOR}')
    expect(final).toContain('pg_dump --version')
  })
})

describe('.dockerignore', () => {
  const ignored = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
  it('keeps installed, built, local and secret files out of the build context', () => {
    for (const pattern of [
      '**/node_modules',
      '**/.next',
      '.git',
      '.env',
      '.env.*',
      '**/.env',
      '**/.env.*',
      'packages/db/src/generated',
    ])
      expect(ignored).toContain(pattern)
  })
})

describe('base image names', () => {
  it('are checked fully qualified, so a local stand-in never passes for the official image', async () => {
    const { qualified } = await import('./base-images.ts')
    expect(qualified('node:24.22.3-bookworm-slim')).toBe(
      'docker.io/library/node:24.22.3-bookworm-slim',
    )
    expect(qualified('maildev/maildev:2.2.1')).toBe('docker.io/maildev/maildev:2.2.1')
    expect(qualified('localhost/groundwork/redis:7')).toBe('localhost/groundwork/redis:7')
    expect(qualified('ghcr.io/acme/groundwork-api:abc')).toBe('ghcr.io/acme/groundwork-api:abc')
  })
})
