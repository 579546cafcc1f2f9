import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils'
import type { SchemaEngine, SchemaFilter, SchemasContainer } from '@prisma/schema-engine-wasm'
import * as wasmBindings from '@prisma/schema-engine-wasm/schema_engine_bg'
import pg from 'pg'
import { connectForSchemaEngine } from './pg-catalog-adapter.ts'

// Node has WebAssembly; the ES lib typings do not declare it, so declare the part we use.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>
}

export const filters: SchemaFilter = { externalTables: [], externalEnums: [] }

// The engine reports Rust panics through this global before trapping with a bare
// `RuntimeError: unreachable`; keep the message so errors say what went wrong.
export const panic = { message: '' }
;(globalThis as Record<string, unknown>).PRISMA_WASM_PANIC_REGISTRY = {
  set_message: (message: string) => {
    panic.message = `Schema engine panic: ${message}`
  },
}

let wasmReady: Promise<void> | undefined
function loadWasm(): Promise<void> {
  wasmReady ??= (async () => {
    const bindings = createRequire(import.meta.url).resolve(
      '@prisma/schema-engine-wasm/schema_engine_bg',
    )
    const wasmFile = join(dirname(bindings), 'schema_engine_bg.wasm')
    // The engine arms a 10 s advisory-lock timer it never clears, which would keep Node
    // alive 10 s after every apply; unref those timers.
    const imports: Record<string, unknown> = { ...wasmBindings }
    for (const name of Object.keys(imports).filter((key) => key.startsWith('__wbg_setTimeout_'))) {
      imports[name] = (fn: () => void, ms: number) => setTimeout(fn, ms >>> 0).unref()
    }
    const { instance } = await WebAssembly.instantiate(await readFile(wasmFile), {
      './schema_engine_bg.js': imports,
    })
    wasmBindings.__wbg_set_wasm(instance.exports as never)
    ;(instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.()
  })()
  return wasmReady
}

/**
 * Connections for the engine, tracked so close() ends them all, with a shadow database we
 * create and drop ourselves: PrismaPg#connectToShadowDb opens its pool with the original
 * connectionString, which overrides the shadow database name, so the "shadow" replay
 * would run against the main database.
 */
function adapterFactory(connectionString: string, shadowDatabaseUrl?: string) {
  const open = new Set<SqlDriverAdapter>()
  const track = (adapter: SqlDriverAdapter, cleanup?: () => Promise<void>) => {
    const dispose = adapter.dispose.bind(adapter)
    adapter.dispose = async () => {
      if (!open.delete(adapter)) return
      await dispose()
      await cleanup?.()
    }
    open.add(adapter)
    return adapter
  }
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => track(await connectForSchemaEngine(connectionString)),
    connectToShadowDb: async () => {
      if (shadowDatabaseUrl) {
        if (sameDatabase(shadowDatabaseUrl, connectionString)) {
          throw new Error(
            'SHADOW_DATABASE_URL points at the same database as DATABASE_URL; the shadow database is wiped.',
          )
        }
        // A dedicated shadow database is wiped first: the wasm engine does not reset it.
        const shadow = track(await connectForSchemaEngine(shadowDatabaseUrl))
        await shadow.executeScript(
          'DROP SCHEMA IF EXISTS "public" CASCADE; CREATE SCHEMA "public";',
        )
        return shadow
      }
      const name = `prisma_migrate_shadow_db_${randomUUID().replaceAll('-', '')}`
      await admin(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
      const url = new URL(connectionString)
      url.pathname = `/${name}`
      return track(await connectForSchemaEngine(url.toString()), () =>
        admin(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
      )
    },
  }
  return {
    factory,
    closeAll: async () => {
      for (const adapter of [...open].reverse()) await adapter.dispose()
    },
  }
}

function sameDatabase(a: string, b: string): boolean {
  const key = (url: string) => {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`
  }
  return key(a) === key(b)
}

export type Engine = SchemaEngine & { close(): Promise<void> }

/** Opens Prisma's schema engine (WebAssembly build) against a Postgres database. */
export async function openEngine(options: {
  databaseUrl: string
  schema?: SchemasContainer
  shadowDatabaseUrl?: string | undefined
}): Promise<Engine> {
  await loadWasm()
  const { factory, closeAll } = adapterFactory(options.databaseUrl, options.shadowDatabaseUrl)
  const log = (line: string) => {
    if (process.env.DEBUG_SCHEMA_ENGINE) console.error('[schema-engine]', line)
  }
  const datamodels = options.schema?.files.map(
    (file) => [file.path, file.content] as [string, string],
  )
  const engine = (await wasmBindings.SchemaEngine.new(
    { datamodels },
    log,
    bindMigrationAwareSqlAdapterFactory(factory),
  )) as Engine
  engine.close = async () => {
    engine.free()
    await closeAll()
  }
  return engine
}

/** Engine errors carry a Prisma code (P3009, P3018...) and a Rust span trace; keep the useful part. */
export function engineErrorMessage(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string }
  const text = (message ?? String(error)).split('\n   0: ')[0]?.trim() ?? ''
  return `${code ? `${code}: ` : ''}${text}${panic.message ? `\n${panic.message}` : ''}`
}
