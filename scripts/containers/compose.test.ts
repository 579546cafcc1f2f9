import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_POSTGRES_IMAGE,
  DEFAULT_REDIS_IMAGE,
} from '../../packages/testing/src/servers/containers.ts'
import { composeDefault, repoRoot } from './base-images.ts'

// docker-compose.yml is checked by Docker Compose v2 itself: `config` validates a file
// against the Compose Specification's JSON schema (compose-go embeds the specification's
// compose-spec.json) before it resolves anything. .ci/provision installs it.

/** The Compose v2 command here: the docker CLI plugin or the standalone docker-compose. */
function findCompose(): string[] | undefined {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const result = spawnSync(command[0] as string, [...command.slice(1), 'version', '--short'], {
      encoding: 'utf8',
    })
    if (result.status === 0 && /^v?2\./.test(result.stdout.trim())) return command
  }
  return undefined
}
const compose = findCompose()
// CI provisions it: there a missing Compose is a failure, not a skip. Elsewhere the
// suite does not run without it (Docker Desktop and Docker Engine ship Compose v2).
const available = compose !== undefined || process.env.CI === 'true'

const scratch = mkdtempSync(join(tmpdir(), 'groundwork-compose-'))
// Compose reads a .env beside the file too: an empty one instead, so a developer's secrets
// there (docs/deploy.md) neither leak into nor change what is checked.
const emptyEnvFile = join(scratch, 'empty.env')
writeFileSync(emptyEnvFile, '')
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function config(file: string, args: string[] = []) {
  if (!compose) throw new Error('Docker Compose v2 is not installed (.ci/provision installs it)')
  // An empty environment but PATH: the file's own defaults, not this shell's variables.
  return spawnSync(
    compose[0] as string,
    [
      ...compose.slice(1),
      '--file',
      file,
      '--env-file',
      emptyEnvFile,
      ...args,
      'config',
      '--format',
      'json',
    ],
    { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH } },
  )
}

interface Service {
  image: string
  profiles?: string[]
  ports?: { host_ip?: string; published?: string; target: number }[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
  read_only?: boolean
  volumes?: { type: string; source: string; target: string }[]
  environment?: Record<string, string | null>
}

function model(args: string[] = []) {
  const result = config('docker-compose.yml', args)
  expect(result.stderr).not.toMatch(/error|invalid/i)
  expect(result.status).toBe(0)
  return JSON.parse(result.stdout) as {
    name: string
    services: Record<string, Service>
    volumes: Record<string, unknown>
  }
}

describe.runIf(available)('docker-compose.yml', () => {
  it('is valid against the Compose Specification, and the check can fail', () => {
    expect(model().name).toBe('groundwork')
    const broken = join(scratch, 'docker-compose.yml')
    writeFileSync(
      broken,
      readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8').replace(
        '    read_only: true\n',
        '    read_only: true\n    restart_policy: always\n',
      ),
    )
    const result = config(broken)
    expect(result.status).not.toBe(0)
    expect(result.stderr).toMatch(/validating .*docker-compose\.yml/)
  })

  it('starts only Postgres and Redis by default: what `pnpm dev` needs', () => {
    expect(Object.keys(model().services).sort()).toEqual(['postgres', 'redis'])
  })

  it('runs the whole stack in the full profile, each part after what it needs is ready', () => {
    const { services, volumes } = model(['--profile', 'full'])
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'migrate', 'postgres', 'redis', 'smtp', 'web', 'worker'].sort(),
    )
    const after = (name: string) =>
      Object.fromEntries(
        Object.entries(services[name]?.depends_on ?? {}).map(([dep, { condition }]) => [
          dep,
          condition,
        ]),
      )
    expect(after('migrate')).toEqual({ postgres: 'service_healthy' })
    expect(after('api')).toEqual({
      migrate: 'service_completed_successfully',
      redis: 'service_healthy',
    })
    expect(after('worker')).toEqual({
      migrate: 'service_completed_successfully',
      redis: 'service_healthy',
      smtp: 'service_healthy',
    })
    expect(after('web')).toEqual({ api: 'service_healthy' })
    // Health checks: the services' own here, the apps' from their images (HEALTHCHECK).
    for (const name of ['postgres', 'redis', 'smtp'])
      expect(services[name]?.healthcheck).toBeDefined()
    // State lives in named volumes; the apps' root filesystems are read-only.
    expect(Object.keys(volumes).sort()).toEqual(['postgres-data', 'redis-data'])
    expect(services.postgres?.volumes?.[0]).toMatchObject({
      type: 'volume',
      source: 'postgres-data',
    })
    expect(services.redis?.volumes?.[0]).toMatchObject({ type: 'volume', source: 'redis-data' })
    for (const name of ['api', 'worker', 'web']) expect(services[name]?.read_only).toBe(true)
    // Nothing is published beyond this machine.
    for (const [name, service] of Object.entries(services))
      for (const port of service.ports ?? [])
        expect({ name, host: port.host_ip }).toEqual({ name, host: '127.0.0.1' })
    // The migration step and the API run the same image, tagged, never `latest`.
    expect(services.migrate?.image).toBe(services.api?.image)
    for (const service of Object.values(services))
      expect(service.image).not.toMatch(/:latest$|^[^:]+$/)
  })

  it('publishes no secret: the apps get none unless the environment gives it', () => {
    const { services } = model(['--profile', 'full'])
    const api = services.api?.environment ?? {}
    expect(api.MFA_ENCRYPTION_KEY ?? '').toBe('')
    expect(api.DATABASE_URL).toBe('postgresql://app_login:@postgres:5432/groundwork')
    expect(api.NODE_ENV).toBe('production')
  })

  it('names the same Postgres and Redis images as the Testcontainers path', () => {
    expect(composeDefault('POSTGRES_IMAGE')).toBe(DEFAULT_POSTGRES_IMAGE)
    expect(composeDefault('REDIS_IMAGE')).toBe(DEFAULT_REDIS_IMAGE)
  })
})
