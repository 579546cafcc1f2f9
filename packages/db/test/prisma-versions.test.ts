import { fileURLToPath } from 'node:url'
import { installedPackage } from '@repo/testing'
import { describe, expect, it } from 'vitest'

// The migration runner drives Prisma's schema engine compiled to WebAssembly
// (@prisma/schema-engine-wasm), published per engine build, beside the `prisma` CLI that
// `prisma migrate` users run with the native engine of its own build. The two must be the
// same build, or the migrations we write and the ones `prisma migrate` writes can differ.
// Upgrading: docs/decisions/003-migration-workflow.md.
const dbDir = fileURLToPath(new URL('..', import.meta.url))

const installed = installedPackage

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
