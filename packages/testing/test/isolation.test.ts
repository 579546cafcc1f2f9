import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, describe, expect, inject, it } from 'vitest'
import {
  createTestDatabase,
  createTestRedis,
  type TestDatabase,
  type TestRedis,
} from '../src/index.ts'
import { chooseRuntime, containerRuntimeAvailable } from '../src/servers/index.ts'

const created: Array<TestDatabase | TestRedis> = []
afterAll(async () => {
  await Promise.all(created.map((item) => ('drop' in item ? item.drop() : item.release())))
})

async function rows(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

describe('per-file isolation', () => {
  it('gives each caller its own migrated database', async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()])
    created.push(a, b)
    expect(a.name).not.toBe(b.name)
    await rows(
      a.url,
      `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'only in a', now())`,
    )
    expect(await rows(a.url, 'SELECT name FROM organizations')).toEqual([{ name: 'only in a' }])
    expect(await rows(b.url, 'SELECT name FROM organizations')).toEqual([])
  })

  it('drops the database on drop()', async () => {
    const db = await createTestDatabase()
    await db.drop()
    await expect(rows(db.url, 'SELECT 1')).rejects.toThrow(/does not exist/)
  })

  it('gives each caller its own Redis database', async () => {
    const [a, b] = await Promise.all([createTestRedis(), createTestRedis()])
    created.push(a, b)
    expect(a.db).not.toBe(b.db)
    const clientA = new Redis(a.url)
    const clientB = new Redis(b.url)
    try {
      await clientA.set('shared-name', 'a')
      expect(await clientB.get('shared-name')).toBeNull()
      await a.flush()
      expect(await clientA.dbsize()).toBe(0)
    } finally {
      clientA.disconnect()
      clientB.disconnect()
    }
  })
})

describe('runtime choice', () => {
  const original = process.env.GROUNDWORK_TEST_RUNTIME
  afterAll(() => {
    if (original === undefined) delete process.env.GROUNDWORK_TEST_RUNTIME
    else process.env.GROUNDWORK_TEST_RUNTIME = original
  })

  it('follows GROUNDWORK_TEST_RUNTIME and otherwise what the machine has', async () => {
    process.env.GROUNDWORK_TEST_RUNTIME = 'local'
    expect(await chooseRuntime()).toBe('local')
    process.env.GROUNDWORK_TEST_RUNTIME = 'container'
    expect(await chooseRuntime()).toBe('container')
    process.env.GROUNDWORK_TEST_RUNTIME = 'auto'
    expect(await chooseRuntime()).toBe((await containerRuntimeAvailable()) ? 'container' : 'local')
    process.env.GROUNDWORK_TEST_RUNTIME = 'docker-please'
    await expect(chooseRuntime()).rejects.toThrow(
      'GROUNDWORK_TEST_RUNTIME must be auto, container or local',
    )
  })
})

describe("this run's servers", () => {
  it('come from the runtime GROUNDWORK_TEST_RUNTIME asks for', async () => {
    const { runtime, postgresUrl } = inject('groundworkServices')
    const forced = process.env.GROUNDWORK_TEST_RUNTIME
    if (forced === 'container' || forced === 'local') expect(runtime).toBe(forced)
    // Where Postgres keeps its files tells a container (the image's PGDATA) from a local
    // server (a temp directory of this machine).
    const [{ data_directory }] = await rows(postgresUrl, 'SHOW data_directory')
    if (runtime === 'container') expect(data_directory).toBe('/var/lib/postgresql/18/docker')
    else expect(data_directory).not.toMatch(/^\/var\/lib\/postgresql\//)
  })
})
