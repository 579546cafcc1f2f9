import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The migration runner drives Prisma's schema engine compiled to WebAssembly
// (@prisma/schema-engine-wasm), published per engine build, beside the `prisma` CLI that
// `prisma migrate` users run with the native engine of its own build. The two must be the
// same build, or the migrations we write and the ones `prisma migrate` writes can differ.
// Upgrading: docs/decisions/003-migration-workflow.md.
const dbDir = fileURLToPath(new URL('..', import.meta.url))

/**
 * A package as Node resolves it from `fromDir` (the node_modules folders up the tree), read
 * from its package.json on disk: some of these packages do not export it.
 */
function installed(fromDir: string, name: string): { version: string; dir: string } {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json')
    if (existsSync(manifest))
      return {
        version: JSON.parse(readFileSync(manifest, 'utf8')).version,
        dir: realpathSync(dirname(manifest)),
      }
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (looked from ${fromDir})`)
  }
}

describe('Prisma packages move together', () => {
  it('the WebAssembly schema engine is the build the installed prisma CLI uses', () => {
    const cli = installed(dbDir, 'prisma')
    const engines = installed(cli.dir, '@prisma/engines')
    const engineBuild = installed(engines.dir, '@prisma/engines-version')
    const wasm = installed(dbDir, '@prisma/schema-engine-wasm')
    expect(wasm.version).toBe(engineBuild.version)
  })

  it('client, adapters and CLI are one release', () => {
    const cli = installed(dbDir, 'prisma').version
    for (const name of ['@prisma/client', '@prisma/adapter-pg', '@prisma/driver-adapter-utils'])
      expect(`${name}@${installed(dbDir, name).version}`).toBe(`${name}@${cli}`)
  })
})
