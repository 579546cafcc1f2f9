import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { freePort } from '@repo/testing/servers'
import { buildApp } from 'fauxqs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '../src/backup/index.ts'
import {
  createMigratedDatabase,
  type DrillServer,
  drillBinaries,
  runCli,
  sql,
  startDrillServer,
} from './backup-helpers.ts'

// Backups to an S3-compatible store, against a real S3 API server (fauxqs, in this
// process, on 127.0.0.1): streamed upload, listing, `latest`, restore, retention, errors.
const binaries = drillBinaries()
const { identity } = await generateKeyPair()

describe.skipIf('missing' in binaries)('backups in S3', () => {
  const { binDir } = binaries as { binDir: string }
  const store = buildApp({ logger: false })
  let endpoint: string
  let server: DrillServer
  let url: string
  let s3: S3Client
  const env = (destination: string) => ({
    BACKUP_DATABASE_URL: url,
    BACKUP_DESTINATION: destination,
    BACKUP_ENCRYPTION_KEY: identity,
    BACKUP_S3_ENDPOINT: endpoint,
    BACKUP_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    // Credentials from the environment only: never a profile or instance metadata.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  })
  const keys = async (prefix: string) =>
    (
      (await s3.send(new ListObjectsV2Command({ Bucket: 'backups', Prefix: prefix }))).Contents ??
      []
    )
      .map((object) => object.Key)
      .sort()

  beforeAll(async () => {
    endpoint = await store.listen({ port: 0, host: '127.0.0.1' })
    s3 = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    })
    await s3.send(new CreateBucketCommand({ Bucket: 'backups' }))
    server = await startDrillServer(binDir)
    url = await createMigratedDatabase(server, 'groundwork')
    await sql(
      url,
      `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'In the bucket', now())`,
    )
  })
  afterAll(async () => {
    s3?.destroy()
    await store.close()
    await server?.stop()
  })

  it('backs up into a bucket prefix, with retention, and restores the latest', async () => {
    for (const key of [
      'nightly/groundwork-20200101T000000000Z.dump.age',
      'nightly/groundwork-20200101T000000000Z.manifest.json',
      'elsewhere/groundwork-20200101T000000000Z.dump',
    ])
      await s3.send(new PutObjectCommand({ Bucket: 'backups', Key: key, Body: 'old' }))

    const made = await runCli(['backup'], {
      ...env('s3://backups/nightly'),
      BACKUP_RETENTION_DAYS: '30',
    })
    expect(made.stderr).toBe('')
    expect(made.code).toBe(0)
    expect(made.stdout).toMatch(/to s3:\/\/backups\/nightly\/groundwork-\d{8}T\d{9}Z\.dump\.age/)
    expect(made.stdout).toContain('deleted groundwork-20200101T000000000Z')
    const stored = await keys('nightly/')
    expect(stored).toHaveLength(2)
    expect(stored[0]).toMatch(/^nightly\/groundwork-\d{8}T\d{9}Z\.dump\.age$/)
    expect(stored[1]).toMatch(/\.manifest\.json$/)
    // Another prefix is another destination: untouched.
    expect(await keys('elsewhere/')).toEqual(['elsewhere/groundwork-20200101T000000000Z.dump'])

    const listed = await runCli(['list'], env('s3://backups/nightly'))
    expect(listed.stdout).toMatch(/groundwork-\d{8}T\d{9}Z\.dump\.age .* encrypted/)

    const latest = await runCli(
      ['restore', 'latest', '--database', 'from_latest'],
      env('s3://backups/nightly'),
    )
    expect(latest.stderr).toBe('')
    expect(latest.code).toBe(0)
    const byUrl = await runCli(
      ['restore', `s3://backups/${stored[0]}`, '--database', 'from_url'],
      env('s3://backups/nightly'),
    )
    expect(byUrl.code).toBe(0)
    for (const database of ['from_latest', 'from_url'])
      expect(await sql(server.urlOf(database), 'SELECT name FROM organizations')).toEqual([
        { name: 'In the bucket' },
      ])
  })

  it('says which: a missing bucket, a missing object, an unreachable store', async () => {
    const down = `http://127.0.0.1:${await freePort()}`
    const [noBucket, noObject, unreachable] = await Promise.all([
      runCli(['backup'], env('s3://no-such-bucket/x')),
      runCli(
        ['restore', 's3://backups/nightly/groundwork-20990101T000000000Z.dump'],
        env('s3://backups/nightly'),
      ),
      runCli(['backup'], { ...env('s3://backups/nightly'), BACKUP_S3_ENDPOINT: down }),
    ])
    expect(noBucket.code).toBe(73)
    expect(noBucket.stderr).toMatch(/cannot write to s3:\/\/no-such-bucket\/x/)
    expect(noObject.code).toBe(66)
    expect(noObject.stderr).toMatch(/groundwork-20990101T000000000Z\.manifest\.json does not exist/)
    expect(unreachable.code).toBe(69)
    expect(unreachable.stderr).toMatch(/s3:\/\/backups\/nightly/)
  })
})
