import { useIsolatedServices } from '@repo/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabaseClient, type PrismaClient } from '../src/index.ts'
import { clientConfig } from './catalog.ts'

// Prisma's Postgres adapter writes a DateTime as a timestamp without an offset and reads a
// timestamptz by relabelling its offset as UTC (prisma/orm#26786): both are right only in
// a session whose TimeZone is UTC. A server, database or role set to another zone (a
// managed database in its region's zone, a developer's local Postgres) would shift every
// time the application writes or reads, silently. Every connection of createDatabaseClient
// sets its session to UTC, whatever the server says; proven here on a database whose
// default zone is New York (UTC-4 in July, -5 in January) and one in Kathmandu (+5:45).
const services = useIsolatedServices()
let admin: PrismaClient
let app: PrismaClient

/** What Postgres holds, read in a session of its own set to UTC (not through Prisma). */
async function storedAsUtc(sql: string, values: unknown[]) {
  const client = new pg.Client({ connectionString: services().database.url })
  await client.connect()
  try {
    await client.query(`SET TimeZone = 'UTC'`)
    return (await client.query(sql, values)).rows
  } finally {
    await client.end()
  }
}

async function setDatabaseZone(zone: string) {
  const { database } = services()
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  try {
    await client.query(
      `ALTER DATABASE ${pg.escapeIdentifier(database.name)} SET TimeZone = ${pg.escapeLiteral(zone)}`,
    )
  } finally {
    await client.end()
  }
}

beforeAll(async () => {
  const { database } = services()
  await setDatabaseZone('America/New_York')
  // Clients made after the zone is set: every connection they open starts in it.
  admin = createDatabaseClient(clientConfig(database.url))
  app = createDatabaseClient(clientConfig(database.appUrl))
})
afterAll(async () => {
  await Promise.all([admin, app].map((db) => db?.$disconnect()))
})

describe('times on a database whose default zone is not UTC', () => {
  it('the server would start sessions in another zone (the premise of the tests below)', async () => {
    const client = new pg.Client({ connectionString: services().database.url })
    await client.connect()
    try {
      expect((await client.query('SHOW TimeZone')).rows[0].TimeZone).toBe('America/New_York')
    } finally {
      await client.end()
    }
  })

  it("every connection of the application's client runs in UTC, the owner's and the app's", async () => {
    for (const db of [admin, app]) {
      const zones = await Promise.all(
        [1, 2, 3].map(
          () => db.$queryRaw<{ zone: string }[]>`SELECT current_setting('TimeZone') AS zone`,
        ),
      )
      expect(zones.flat().map((row) => row.zone)).toEqual(['UTC', 'UTC', 'UTC'])
    }
  })

  it('a DateTime written through a model is stored as that instant, and read back as it', async () => {
    const summer = new Date('2026-07-01T12:00:00.000Z')
    const winter = new Date('2026-01-15T23:30:00.250Z')
    for (const [name, at] of [
      ['Summer', summer],
      ['Winter', winter],
    ] as const) {
      const created = await admin.organization.create({
        data: { name, createdAt: at },
        select: { id: true, createdAt: true },
      })
      expect(created.createdAt.toISOString()).toBe(at.toISOString())
      const [row] = await storedAsUtc(
        `SELECT to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM organizations WHERE id = $1`,
        [created.id],
      )
      expect(row.at).toBe(at.toISOString())
      const read = await admin.organization.findUniqueOrThrow({
        where: { id: created.id },
        select: { createdAt: true },
      })
      expect(read.createdAt.toISOString()).toBe(at.toISOString())
    }
  })

  it('holds in a zone with a fractional offset, for connections opened after it changes', async () => {
    await setDatabaseZone('Asia/Kathmandu')
    const fresh = createDatabaseClient(clientConfig(services().database.url))
    try {
      const at = new Date('2026-03-03T03:03:03.003Z')
      const { id } = await fresh.organization.create({ data: { name: 'Kathmandu', createdAt: at } })
      const [row] = await storedAsUtc(
        'SELECT created_at = $2::timestamptz AS same FROM organizations WHERE id = $1',
        [id, at.toISOString()],
      )
      expect(row.same).toBe(true)
      const read = await fresh.organization.findUniqueOrThrow({ where: { id } })
      expect(read.createdAt.toISOString()).toBe(at.toISOString())
    } finally {
      await fresh.$disconnect()
    }
  })
})
