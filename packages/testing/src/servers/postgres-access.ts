import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { PostgresBinaries } from './postgres-binaries.ts'

export interface ServerUser {
  uid: number
  gid: number
}

/** True when `user` can reach and execute `file` (every parent directory must be enterable). */
export function canExecuteAs(user: ServerUser, file: string): boolean {
  try {
    execFileSync(file, ['--version'], { uid: user.uid, gid: user.gid, stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** True when `user` can enter `dir` (and so every directory above it). */
export function canEnterAs(user: ServerUser, dir: string): boolean {
  try {
    execFileSync('test', ['-x', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function ownedAndLocked(paths: string[]): boolean {
  const uid = process.getuid?.()
  return paths.every((path) => {
    try {
      const stat = lstatSync(path)
      return stat.uid === uid && (stat.mode & 0o022) === 0 && !stat.isSymbolicLink()
    } catch {
      return false
    }
  })
}

/** Mirrors a tree with hard links (no data copied; copies across file systems). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true, mode: 0o755 })
  for (const entry of readdirSync(from)) {
    const source = join(from, entry)
    const target = join(to, entry)
    const stat = lstatSync(source)
    if (stat.isDirectory()) linkTree(source, target)
    else if (stat.isSymbolicLink()) symlinkSync(readlinkSync(source), target)
    else {
      try {
        linkSync(source, target)
      } catch {
        copyFileSync(source, target)
        chmodSync(target, stat.mode)
      }
    }
  }
}

/**
 * As root, Postgres runs as the unprivileged `postgres` user, which cannot reach binaries
 * inside a checkout under a private directory (a CI workspace, /root). Then the
 * installation is mirrored, with hard links, into a world-readable cache directory
 * (/var/tmp, kept between runs like any package cache) and run from there.
 */
export function binariesRunnableBy(user: ServerUser, binaries: PostgresBinaries): PostgresBinaries {
  if (canExecuteAs(user, binaries.postgres)) return binaries
  const installRoot = dirname(dirname(binaries.postgres))
  const version = execFileSync(binaries.postgres, ['--version'], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .pop()
  const cacheRoot = existsSync('/var/tmp') ? '/var/tmp' : tmpdir()
  const target = join(cacheRoot, `groundwork-postgres-${version}-${basename(dirname(installRoot))}`)
  // /var/tmp is world-writable: trust an existing tree only if we own every directory on
  // the way and nobody else can write to them; otherwise rebuild it.
  if (
    existsSync(target) &&
    !ownedAndLocked([
      target,
      ...['bin', 'lib', 'share', 'bin/postgres', 'bin/initdb'].map((p) => join(target, p)),
    ])
  ) {
    rmSync(target, { recursive: true, force: true })
  }
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    // Build beside the target, then rename: concurrent starts never see a half-built tree.
    const staging = mkdtempSync(`${target}.staging-`)
    try {
      linkTree(installRoot, join(staging, 'install'))
      chmodSync(join(staging, 'install'), 0o755)
      renameSync(join(staging, 'install'), target)
    } catch (error) {
      if (!existsSync(join(target, 'bin', 'postgres'))) throw error
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
  }
  const staged = {
    initdb: join(target, 'bin', 'initdb'),
    postgres: join(target, 'bin', 'postgres'),
    source: `${binaries.source}, run from ${target}`,
  }
  if (!canExecuteAs(user, staged.postgres)) {
    throw new Error(
      `The postgres user cannot run ${staged.postgres}; check the permissions of ${cacheRoot}.`,
    )
  }
  return staged
}
