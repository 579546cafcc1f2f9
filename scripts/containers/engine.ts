// The container engine the scripts drive: Docker where its engine runs (developers'
// machines, GitHub's runners), Podman where it does not (our build machines).

import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Engine {
  /** The CLI: `docker` or `podman`. */
  cli: 'docker' | 'podman'
  /** How to run Compose v2: `docker compose` or `docker-compose`. */
  compose: string[]
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Stream the command's output (a build's progress) instead of keeping it. */
  stream?: boolean
  timeoutMs?: number
  /** Fed to the command's stdin. */
  input?: NodeJS.ReadableStream
}

export class CommandError extends Error {
  readonly command: string
  readonly code: number | null
  readonly output: string
  constructor(command: string, code: number | null, output: string) {
    const tail = output.trim().split('\n').slice(-30).join('\n')
    super(`\`${command}\` exited ${code ?? 'on a signal'}${tail ? `:\n${tail}` : ''}`)
    this.command = command
    this.code = code
    this.output = output
  }
}

/** Runs a command to its end; resolves with its output, rejects with its tail. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const shown = [command, ...args].join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    })
    if (options.input && child.stdin) options.input.pipe(child.stdin)
    let output = ''
    const keep = (chunk: Buffer) => {
      output += chunk
      if (options.stream) process.stdout.write(chunk)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    const timer = options.timeoutMs
      ? setTimeout(() => {
          output += `\n(timed out after ${options.timeoutMs} ms)`
          child.kill('SIGKILL')
        }, options.timeoutMs)
      : undefined
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(new CommandError(shown, null, `${output}\n${err.message}`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new CommandError(shown, code, output))
    })
  })
}

const succeeds = (command: string, args: string[]) =>
  run(command, args, { timeoutMs: 20_000 }).then(
    () => true,
    () => false,
  )

/** Compose v2, as the docker CLI's plugin or the standalone docker-compose. */
async function findCompose(cli: Engine['cli']): Promise<string[] | undefined> {
  const candidates =
    cli === 'docker' ? [['docker', 'compose'], ['docker-compose']] : [['docker-compose']]
  for (const command of candidates) {
    const output = await run(command[0] as string, [...command.slice(1), 'version', '--short'], {
      timeoutMs: 20_000,
    }).catch(() => '')
    if (/^v?2\./.test(output.trim())) return command
  }
  return undefined
}

/**
 * CONTAINER_ENGINE=docker|podman picks one; otherwise Docker when its engine answers, then
 * Podman. Compose is always Compose v2 (the specification's reference implementation);
 * with Podman it talks to Podman's Docker-compatible API (withEngineApi).
 */
export async function detectEngine(): Promise<Engine> {
  const forced = process.env.CONTAINER_ENGINE
  if (forced && forced !== 'docker' && forced !== 'podman')
    throw new Error(`CONTAINER_ENGINE must be docker or podman (got "${forced}")`)
  const cli =
    (forced as Engine['cli'] | undefined) ??
    ((await succeeds('docker', ['info'])) ? 'docker' : undefined) ??
    ((await succeeds('podman', ['info'])) ? 'podman' : undefined)
  if (!cli)
    throw new Error(
      'No container engine answers: start Docker, or install Podman (.ci/provision does on Debian).',
    )
  const compose = await findCompose(cli)
  if (!compose)
    throw new Error('Docker Compose v2 is missing: install it (.ci/provision does on Debian).')
  return { cli, compose }
}

/** GET /_ping on a Docker-compatible API's unix socket: true when it answers 200. */
const pingSocket = (socketPath: string) =>
  new Promise<boolean>((resolve) => {
    const request = get({ socketPath, path: '/_ping', timeout: 2_000 }, (response) => {
      response.resume()
      resolve(response.statusCode === 200)
    })
    request.once('error', () => resolve(false))
    request.once('timeout', () => request.destroy())
  })

/**
 * Runs `work` with DOCKER_HOST pointing at the engine's Docker-compatible API: Docker's own,
 * or Podman's, served on a socket of its own for the duration and stopped after.
 */
export async function withEngineApi<T>(
  engine: Engine,
  work: (env: NodeJS.ProcessEnv) => Promise<T>,
): Promise<T> {
  if (engine.cli === 'docker') return work({ ...process.env })
  const dir = mkdtempSync(join(tmpdir(), 'groundwork-podman-'))
  const socket = join(dir, 'podman.sock')
  const service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
    stdio: 'ignore',
  })
  try {
    const deadline = Date.now() + 30_000
    while (!(await pingSocket(socket))) {
      if (service.exitCode !== null || Date.now() > deadline)
        throw new Error("Podman's API service did not answer within 30 s")
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    return await work({ ...process.env, DOCKER_HOST: `unix://${socket}` })
  } finally {
    service.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Podman schedules health checks with systemd timers; without systemd (containers, CI
 * sandboxes) none ever runs, so `depends_on: condition: service_healthy` would wait for
 * ever. This runs the checks itself, every `intervalMs`, for one compose project's
 * containers, as the timers would. Docker (or Podman with systemd) needs nothing: no-op.
 */
export function runHealthChecks(engine: Engine, project: string, intervalMs = 2_000) {
  if (engine.cli !== 'podman' || existsSync('/run/systemd/system')) return () => {}
  let stopped = false
  const loop = async () => {
    while (!stopped) {
      const ids = await run('podman', [
        'ps',
        '--quiet',
        '--filter',
        `label=com.docker.compose.project=${project}`,
      ]).catch(() => '')
      await Promise.all(
        ids
          .split('\n')
          .filter(Boolean)
          .map((id) =>
            run('podman', ['healthcheck', 'run', id], { timeoutMs: 30_000 }).catch(() => ''),
          ),
      )
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  }
  void loop()
  return () => {
    stopped = true
  }
}

/**
 * Flags a build needs on this machine. Podman: the Docker image format (OCI drops
 * HEALTHCHECK), the host's network, and the host's CA bundle mounted for the build's steps at a path of its own
 * (registries may be reached through a TLS-inspecting proxy the host trusts); never baked
 * into an image. In CI, Podman keeps no layer of a build's intermediate stages: a fresh
 * machine has none to reuse, and writing the install and build stages' layers (1.5 to
 * 2.4 GB each) was most of an image's build time (the API's: 166 s with them, 119 s
 * without, on 2 cores). Docker's BuildKit keeps stage caches apart from images anyway.
 * `local`: base images are local stand-ins, so never try to pull.
 */
export function buildFlags(engine: Engine, options: { local: boolean }): string[] {
  const flags: string[] = []
  if (engine.cli === 'podman') {
    flags.push('--format', 'docker', '--network', 'host')
    if (process.env.CI === 'true') flags.push('--layers=false')
    // At a path of its own: over the image's /etc/ssl/certs it would hide the image's
    // bundle and make a step that installs ca-certificates fail on a read-only mount.
    if (existsSync('/etc/ssl/certs/ca-certificates.crt'))
      flags.push(
        '--volume',
        '/etc/ssl/certs/ca-certificates.crt:/run/host-ca/ca-certificates.crt:ro',
        '--build-arg',
        'NODE_EXTRA_CA_CERTS=/run/host-ca/ca-certificates.crt',
      )
  }
  if (options.local) flags.push('--pull=never')
  return flags
}

export const imageExists = (engine: Engine, image: string) =>
  succeeds(engine.cli, ['image', 'inspect', image])

/** An image's size in bytes, as the engine reports it (uncompressed). */
export async function imageSize(engine: Engine, image: string): Promise<number> {
  const output = await run(engine.cli, ['image', 'inspect', '--format', '{{.Size}}', image])
  return Number(output.trim())
}
