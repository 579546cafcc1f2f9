// Generates the Prisma client into src/generated/prisma when its inputs changed, and does
// nothing (in ~50 ms) when they did not. Runs on `pnpm install` (postinstall), at the start
// of `pnpm dev` and whenever `pnpm dev` sees schema.prisma change, after
// `pnpm db:migration:new`, and as the `generate` task Turborepo runs before types and builds.
// Usage: node scripts/prisma-generate.mjs [--force] [--quiet]
//
// Plain JavaScript on purpose: it runs during `pnpm install`, before anything checks that
// Node runs TypeScript. The inputs' hash is kept next to the output (git ignores both), so
// a fresh clone, a pulled schema change or an upgraded Prisma all regenerate, and nothing
// else does.
//
// `prisma generate` never runs the schema engine, but the CLI insists on finding (or
// downloading) its binary first. Where no engine is configured we point
// PRISMA_SCHEMA_ENGINE_BINARY at an existing file so the check passes offline; a
// configured engine is left alone.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const packageRoot = fileURLToPath(new URL('..', import.meta.url))
const outputDir = join(packageRoot, 'src/generated/prisma')
const stampFile = join(packageRoot, 'src/generated/.prisma-inputs')
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
 * Returns what it did; throws with a readable message when generation fails.
 * @param {{ force?: boolean, quiet?: boolean }} [options] quiet: keep Prisma's own output
 *   unless it fails (then it is part of the error)
 * @returns {'generated' | 'up-to-date'}
 */
export function ensurePrismaClient({ force = false, quiet = false } = {}) {
  const wanted = inputsHash()
  const current = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : ''
  if (!force && current === wanted && existsSync(join(outputDir, 'client.ts'))) return 'up-to-date'

  let cli
  try {
    cli = require.resolve('prisma/build/index.js')
  } catch {
    throw new Error(
      'The Prisma CLI is not installed, so the Prisma client cannot be generated. ' +
        'Run `pnpm install` (with dev dependencies).',
    )
  }
  // A generation cut short must not leave a stamp that calls it complete.
  rmSync(stampFile, { force: true })
  const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' }
  env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath
  const result = spawnSync(process.execPath, [cli, 'generate'], {
    cwd: packageRoot,
    env,
    encoding: 'utf8',
    stdio: quiet ? 'pipe' : 'inherit',
  })
  if (result.status !== 0) {
    const output = quiet ? `\n${result.stdout}${result.stderr}`.trimEnd() : ''
    throw new Error(`prisma generate failed (exit ${result.status ?? result.signal}).${output}`)
  }
  writeFileSync(stampFile, `${wanted}\n`)
  return 'generated'
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  const args = process.argv.slice(2)
  try {
    const outcome = ensurePrismaClient({ force: args.includes('--force') })
    if (outcome === 'up-to-date' && !args.includes('--quiet'))
      console.log('Prisma client is up to date (src/generated/prisma).')
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error))
    process.exit(1)
  }
}
