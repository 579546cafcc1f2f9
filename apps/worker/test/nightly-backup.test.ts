import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseEnv } from '@repo/config'
import type { PrismaClient } from '@repo/db'
import { type BackupOptions, backupSettingsFromEnv } from '@repo/db/backup'
import {
  createMigratedDatabase,
  type DrillServer,
  drillBinaries,
  startDrillServer,
} from '@repo/db/backup-test-helpers'
import { jobEnvelope, jobOptions, MAINTENANCE_QUEUE, nightlyBackupJob } from '@repo/jobs'
import { useIsolatedServices } from '@repo/testing'
import { Queue, QueueEvents } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/create-worker.ts'
import { workerEnvSchema } from '../src/env.ts'
import { maintenanceHandlers } from '../src/maintenance.ts'
import { capturingLogger, testDatabaseClient } from './helpers.ts'

// The scheduled backup, run by a real worker from a real queue: a backup with retention
// when BACKUP_DESTINATION is set, a warning and no work when it is not, a failed job (to
// be retried, then a dead letter) when the backup fails.
const binaries = drillBinaries()
const services = useIsolatedServices()

describe.skipIf('missing' in binaries)('the nightly backup job', () => {
  const { binDir } = binaries as { binDir: string }
  let dir: string
  let server: DrillServer
  let connection: Redis
  let queue: Queue
  let events: QueueEvents
  let db: PrismaClient

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'groundwork-nightly-'))
    const { url } = services().redis
    connection = new Redis(url, { maxRetriesPerRequest: null })
    queue = new Queue(MAINTENANCE_QUEUE, { connection })
    events = new QueueEvents(MAINTENANCE_QUEUE, { connection: { url } })
    await events.waitUntilReady()
    db = testDatabaseClient(services().database.workerUrl)
    server = await startDrillServer(binDir)
    await createMigratedDatabase(server, 'groundwork')
  })
  afterAll(async () => {
    await events?.close()
    await queue?.close()
    await db?.$disconnect()
    connection?.disconnect()
    await server?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** Runs one nightly-backup job through a worker with these settings; its outcome and logs. */
  async function runJob(backup: Omit<BackupOptions, 'signal'> | undefined, attempts?: number) {
    const { logger, lines } = capturingLogger()
    const worker = createWorker({
      queue: MAINTENANCE_QUEUE,
      connection,
      concurrency: 1,
      logger,
      handlers: maintenanceHandlers(db, { auditLogRetentionDays: 365, backup }),
    })
    try {
      const job = await queue.add(nightlyBackupJob.name, jobEnvelope(nightlyBackupJob, {}), {
        ...jobOptions(nightlyBackupJob),
        ...(attempts ? { attempts } : {}),
      })
      const outcome = await job.waitUntilFinished(events, 30_000).then(
        (value: unknown) => ({ ok: true as const, value }),
        (error: Error) => ({ ok: false as const, error }),
      )
      return { outcome, lines }
    } finally {
      await worker.close()
    }
  }

  it('makes a backup and applies retention when a destination is set', async () => {
    writeFileSync(join(dir, 'groundwork-20200101T000000000Z.dump'), 'old')
    writeFileSync(join(dir, 'groundwork-20200101T000000000Z.manifest.json'), '{}')
    const { outcome, lines } = await runJob({
      databaseUrl: server.urlOf('groundwork'),
      destination: dir,
      retentionDays: 14,
    })
    expect(outcome).toMatchObject({
      ok: true,
      value: {
        name: expect.stringMatching(/^groundwork-\d{8}T\d{9}Z$/),
        deleted: ['groundwork-20200101T000000000Z'],
      },
    })
    const files = readdirSync(dir)
    expect(files).toHaveLength(2)
    expect(files.some((file) => file.endsWith('.dump'))).toBe(true)
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'nightly backup made',
        deletedByRetention: ['groundwork-20200101T000000000Z'],
      }),
    )
  }, 90_000)

  it('fails the job with the reason when the backup cannot be made', async () => {
    const { outcome } = await runJob(
      {
        databaseUrl: server.urlOf('groundwork').replace(/:\d+\//, ':1/'),
        destination: dir,
        retentionDays: 14,
      },
      1,
    )
    expect(outcome.ok).toBe(false)
    expect((outcome as { error: Error }).error.message).toMatch(
      /cannot reach the database at 127\.0\.0\.1:1\/groundwork/,
    )
  }, 90_000)

  it('succeeds without work, and warns, when no destination is set', async () => {
    const { outcome, lines } = await runJob(undefined)
    expect(outcome).toEqual({
      ok: true,
      value: { skipped: true, reason: 'BACKUP_DESTINATION is not set' },
    })
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: expect.stringMatching(/^nightly backup skipped: BACKUP_DESTINATION is not set/),
      }),
    )
  })
})

describe('the worker environment', () => {
  it('needs the login to dump as when a destination is set', () => {
    const base = {
      NODE_ENV: 'test',
      DATABASE_URL: 'postgresql://app:app@127.0.0.1:5432/app',
      REDIS_URL: 'redis://127.0.0.1:6379',
      BACKUP_DESTINATION: '/var/backups',
    }
    expect(() => parseEnv(workerEnvSchema, base)).toThrow(
      /BACKUP_DATABASE_URL: is required with BACKUP_DESTINATION/,
    )
    const env = parseEnv(workerEnvSchema, {
      ...base,
      MIGRATION_DATABASE_URL: 'postgresql://owner:o@127.0.0.1:5432/app',
    })
    expect(backupSettingsFromEnv(env)).toMatchObject({
      databaseUrl: 'postgresql://owner:o@127.0.0.1:5432/app',
      destination: '/var/backups',
      retentionDays: 30,
    })
    expect(
      backupSettingsFromEnv(parseEnv(workerEnvSchema, { ...base, BACKUP_DESTINATION: '' })),
    ).toBeUndefined()
  })
})
