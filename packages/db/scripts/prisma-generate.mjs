// Generates the Prisma client into src/generated/prisma when its inputs changed, and does
// nothing (in ~50 ms) when they did not. Runs on `pnpm install` (postinstall), at the start
// of `pnpm dev` and whenever `pnpm dev` sees schema.prisma change, after
// `pnpm db:migration:new`, and as the `generate` task Turborepo runs before types and builds.
// Usage: node scripts/prisma-generate.mjs [--force] [--quiet] [--postinstall]
//
// Plain JavaScript on purpose: it runs during `pnpm install`, before anything checks that
// Node runs TypeScript. The inputs' hash is kept inside the output (git ignores both), so
// a fresh clone, a pulled schema change or an upgraded Prisma all regenerate, and nothing
// else does.
//
// The client is generated in a work directory outside src/ and then swapped into place
// whole (two renames). The api and worker in `pnpm dev` restart on changes under packages/*/src,
// and node --watch ignores changes made while it restarts: written file by file in place,
// a restart could load half a client, crash, and wait for a change that already happened.
//
// `prisma generate` never runs the schema engine, but the CLI insists on finding (or
// downloading) its binary first. Where no engine is configured we point
// PRISMA_SCHEMA_ENGINE_BINARY at an existing file so the check passes offline; a
// configured engine is left alone.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const packageRoot = fileURLToPath(new URL('..', import.meta.url))
const outputDir = join(packageRoot, 'src/generated/prisma')
// Inside the output, so the client and the inputs it was made from arrive together.
const stampName = '.prisma-inputs'
// Beside src/, never in it: nothing here may restart the running apps.
const scratchDir = join(packageRoot, '.prisma-generate')
const workDir = join(scratchDir, 'work')
const lockDir = join(scratchDir, 'lock')
// Rewritten after each generation, beside the output: the change the apps' watchers see.
const changedFile = join(dirname(outputDir), '.prisma-generated')
const LOCK_WAIT_MS = 120_000
const require = createRequire(import.meta.url)

/** Every file whose change must regenerate the client, and the versions of Prisma. */
function inputsHash() {
  const hash = createHash('sha256')
  const files = [
    ...listFiles(join(packageRoot, 'prisma')).filter((file) => file.endsWith('.prisma')),
    join(packageRoot, 'prisma.config.ts'),
    fileURLToPath(import.meta.url),
  ]
  for (const file of files.sort()) {
    hash.update(`${relative(packageRoot, file)}\0`)
    hash.update(readFileSync(file))
    hash.update('\0')
  }
  for (const name of ['prisma', '@prisma/client']) hash.update(`${name}@${versionOf(name)}\0`)
  return hash.digest('hex')
}

function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

function versionOf(name) {
  try {
    return require(`${name}/package.json`).version
  } catch {
    return 'missing'
  }
}

/**
 * Generates the client unless it is already generated from these exact inputs.
 * Returns what it did; throws with a readable message when generation fails. One run at a
 * time per checkout (a lock beside the output), so a schema save seen by `pnpm dev` and a
 * `pnpm db:migration:new` typed right after never write the same files at once.
 * @param {{ force?: boolean, quiet?: boolean }} [options] quiet: keep Prisma's own output
 *   unless it fails (then it is part of the error)
 * @returns {'generated' | 'up-to-date'}
 */
export function ensurePrismaClient({ force = false, quiet = false } = {}) {
  if (!force && isUpToDate(inputsHash())) return 'up-to-date'
  const release = lock()
  try {
    // Whoever held the lock may have generated exactly this.
    const wanted = inputsHash()
    if (!force && isUpToDate(wanted)) return 'up-to-date'
    generate(quiet, wanted)
    return 'generated'
  } finally {
    release()
  }
}

function isUpToDate(wanted) {
  const stampFile = join(outputDir, stampName)
  const current = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : ''
  return current === wanted && existsSync(join(outputDir, 'client.ts'))
}

/** Generates into the work directory, stamps it with `inputs`, then swaps it in. */
function generate(quiet, inputs) {
  let cli
  try {
    cli = require.resolve('prisma/build/index.js')
  } catch {
    throw new Error(
      'The Prisma CLI is not installed, so the Prisma client cannot be generated. ' +
        'Run `pnpm install` (with dev dependencies).',
    )
  }
  // The schema and the config, where they are relative to each other; the generator's
  // output (../src/generated/prisma from the schema) then lands inside the work directory.
  rmSync(workDir, { recursive: true, force: true })
  mkdirSync(workDir, { recursive: true })
  cpSync(join(packageRoot, 'prisma.config.ts'), join(workDir, 'prisma.config.ts'))
  cpSync(join(packageRoot, 'prisma'), join(workDir, 'prisma'), {
    recursive: true,
    filter: (source) => source !== join(packageRoot, 'prisma/migrations'),
  })
  // Offline and quiet: no update check, no telemetry.
  const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' }
  env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath
  const result = spawnSync(process.execPath, [cli, 'generate'], {
    cwd: workDir,
    env,
    encoding: 'utf8',
    stdio: quiet ? 'pipe' : 'inherit',
  })
  if (result.status !== 0) {
    const output = quiet ? `\n${result.stdout}${result.stderr}`.trimEnd() : ''
    throw new Error(`prisma generate failed (exit ${result.status ?? result.signal}).${output}`)
  }
  const generated = join(workDir, relative(packageRoot, outputDir))
  if (!existsSync(join(generated, 'client.ts')))
    throw new Error(
      `prisma generate wrote no client to ${relative(packageRoot, outputDir)}: keep the ` +
        'generator\'s output at "../src/generated/prisma" in prisma/schema.prisma.',
    )
  writeFileSync(join(generated, stampName), `${inputs}\n`)
  swapIn(generated)
  rmSync(workDir, { recursive: true, force: true })
  // Node's recursive watcher (what `node --watch-path` uses) does not report a directory
  // renamed into the tree, nor anything in it afterwards: a file that stays where it is,
  // rewritten after every swap, is what tells the running apps to restart.
  writeFileSync(changedFile, `${inputs}\n`)
}

/**
 * Replaces the output directory with `generated` in two renames, microseconds apart, so
 * a watcher sees one burst of changes and a reader finds the whole old client or the whole
 * new one. A generation cut short never gets here and leaves the old client as it was.
 */
function swapIn(generated) {
  mkdirSync(dirname(outputDir), { recursive: true })
  const previous = join(workDir, 'previous')
  if (existsSync(outputDir)) renameSync(outputDir, previous)
  renameSync(generated, outputDir)
}

/**
 * A directory made atomically is the lock; it holds the owner's pid. A lock whose owner
 * has died, or that is older than any generation takes, is taken over.
 */
function lock() {
  mkdirSync(dirname(lockDir), { recursive: true })
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      mkdirSync(lockDir)
      writeFileSync(join(lockDir, 'pid'), String(process.pid))
      return () => rmSync(lockDir, { recursive: true, force: true })
    } catch (error) {
      if (error.code !== 'EEXIST') throw error
    }
    if (lockIsStale()) {
      rmSync(lockDir, { recursive: true, force: true })
      continue
    }
    if (Date.now() > deadline)
      throw new Error(
        `Another process has been generating the Prisma client for ${LOCK_WAIT_MS / 1000} s (lock: ${lockDir}).`,
      )
    // A synchronous pause: callers (postinstall, start-up) have nothing else to do.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
  }
}

function lockIsStale() {
  try {
    if (Date.now() - statSync(lockDir).mtimeMs > LOCK_WAIT_MS) return true
    const pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'))
    if (!pid) return false // being written
    process.kill(pid, 0)
    return false
  } catch (error) {
    // ESRCH: no such process. ENOENT: released meanwhile (the next mkdir decides).
    return error.code === 'ESRCH'
  }
}

function runAsCommand() {
  try {
    return (
      Boolean(process.argv[1]) && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])
    )
  } catch {
    return false
  }
}

if (runAsCommand()) {
  const args = process.argv.slice(2)
  const quiet = args.includes('--quiet')
  try {
    const outcome = ensurePrismaClient({ force: args.includes('--force'), quiet })
    if (outcome === 'generated' && quiet)
      console.log('Prisma client generated (src/generated/prisma).')
    if (outcome === 'up-to-date' && !quiet)
      console.log('Prisma client is up to date (src/generated/prisma).')
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    // During `pnpm install` a missing CLI (a production install) or a schema being edited
    // must not fail the install: pnpm dev, the tests and the build generate again and
    // report it where it matters.
    if (args.includes('--postinstall')) {
      console.warn(`warning: the Prisma client was not generated: ${message}`)
    } else {
      console.error(message)
      process.exit(1)
    }
  }
}
