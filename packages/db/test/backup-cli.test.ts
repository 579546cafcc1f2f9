import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase, type TestDatabase } from '@repo/testing'
import { freePort } from '@repo/testing/servers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '../src/backup/index.ts'
import {
  createMigratedDatabase,
  type DrillServer,
  drillBinaries,
  runCli,
  sql,
  startDrillServer,
  TEST_LOGINS,
} from './backup-helpers.ts'

// Every way `pnpm db:backup` and `pnpm db:restore` can fail that an operator can hit, each
// with its message and exit code (sysexits), and nothing changed where nothing should be.
const binaries = drillBinaries()
const { identity: IDENTITY, recipient: RECIPIENT } = await generateKeyPair()
const { identity: OTHER_IDENTITY } = await generateKeyPair()

describe.skipIf('missing' in binaries)('backup and restore commands', () => {
  const { binDir } = binaries as { binDir: string }
  let root: string
  let server: DrillServer
  let url: string
  /** The dump and manifest of one plain and one encrypted backup, made once. */
  let plain: { dump: string; manifest: string }
  let encrypted: { dump: string; manifest: string }
  const owner = () => ({ BACKUP_DATABASE_URL: url })
  const target = (database: string) => ({
    MIGRATION_DATABASE_URL: server.urlOf(database),
  })
  const databases = async () =>
    (await sql<{ datname: string }>(server.url, 'SELECT datname FROM pg_database ORDER BY 1')).map(
      (row) => row.datname,
    )
  const dirOf = (name: string) => {
    const dir = join(root, name)
    mkdirSync(dir, { recursive: true })
    return dir
  }
  const filesOf = (dir: string) => {
    const files = readdirSync(dir).sort()
    return {
      dump: join(dir, files.find((f) => /\.dump(\.age)?$/.test(f)) as string),
      manifest: join(dir, files.find((f) => f.endsWith('.manifest.json')) as string),
    }
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'groundwork-backup-cli-'))
    server = await startDrillServer(binDir)
    url = await createMigratedDatabase(server, 'groundwork')
    await sql(
      url,
      `INSERT INTO organizations (id, name, updated_at)
       SELECT gen_random_uuid(), 'Org ' || n, now() FROM generate_series(1, 3) n`,
    )
    // The login the runbook recommends: reads everything, bypasses RLS, owns nothing.
    await sql(
      server.url,
      `CREATE ROLE groundwork_backup LOGIN PASSWORD 'backup' BYPASSRLS;
       GRANT pg_read_all_data TO groundwork_backup;
       ALTER ROLE groundwork_backup SET default_transaction_read_only = on`,
    )
    const plainDir = dirOf('plain')
    const encryptedDir = dirOf('encrypted')
    const [a, b] = await Promise.all([
      runCli(['backup'], {
        BACKUP_DATABASE_URL: server.urlOf('groundwork', {
          user: 'groundwork_backup',
          password: 'backup',
        }),
        BACKUP_DESTINATION: plainDir,
      }),
      runCli(['backup'], {
        ...owner(),
        BACKUP_DESTINATION: encryptedDir,
        BACKUP_ENCRYPTION_KEY: IDENTITY,
      }),
    ])
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, '', 0, ''])
    plain = filesOf(plainDir)
    encrypted = filesOf(encryptedDir)
  })
  afterAll(async () => {
    await server?.stop()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  /** A copy of a backup's two files in a directory of its own, for one test to spoil. */
  function copyOf(backup: { dump: string; manifest: string }, name: string) {
    const dir = dirOf(name)
    for (const file of [backup.dump, backup.manifest])
      copyFileSync(file, join(dir, file.split('/').pop() as string))
    return filesOf(dir)
  }

  it('writes a compressed custom-format dump and a manifest that describes it', async () => {
    const manifest = JSON.parse(readFileSync(plain.manifest, 'utf8'))
    expect(manifest).toMatchObject({
      format: 'groundwork-backup/1',
      encryption: null,
      server: { major: 15 },
      pgDump: { major: 15 },
      database: { name: 'groundwork', privileges: [{ grantee: 'PUBLIC', privilege: 'CONNECT' }] },
    })
    expect(readFileSync(plain.dump).subarray(0, 5).toString()).toBe('PGDMP')
    expect(readFileSync(encrypted.dump).subarray(0, 21).toString()).toBe('age-encryption.org/v1')
    const listed = await runCli(['backup', 'list'], {
      ...owner(),
      BACKUP_DESTINATION: join(root, 'plain'),
    })
    expect(listed.stdout).toContain(plain.dump.split('/').pop())
  })

  it('refuses to restore over a database that holds tables, and replaces it with --force', async () => {
    const first = await runCli(['restore', plain.dump], target('copy'))
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    await sql(
      server.urlOf('copy'),
      `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'Written after', now())`,
    )

    const refused = await runCli(['restore', plain.dump], target('copy'))
    expect(refused.code).toBe(77)
    expect(refused.stderr).toMatch(/refusing to restore into "copy" .* holds \d+ tables.*--force/)
    expect(await sql(server.urlOf('copy'), 'SELECT count(*)::int AS n FROM organizations')).toEqual(
      [{ n: 4 }],
    )

    const forced = await runCli(['restore', plain.dump, '--force'], target('copy'))
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain('replaced the existing database')
    expect(await sql(server.urlOf('copy'), 'SELECT count(*)::int AS n FROM organizations')).toEqual(
      [{ n: 3 }],
    )
    // --database names the target instead of the URL's database.
    const named = await runCli(['restore', plain.dump, '--database', 'copy_two'], target('copy'))
    expect(named.code).toBe(0)
    expect(await databases()).toContain('copy_two')
  })

  it('refuses a missing file, a dump without its manifest, and a corrupt or truncated dump', async () => {
    const before = await databases()
    const missing = await runCli(
      ['restore', join(root, 'nowhere', 'groundwork-20260101T000000000Z.dump')],
      target('fresh'),
    )
    expect(missing.code).toBe(66)
    expect(missing.stderr).toMatch(/does not exist/)

    const orphan = copyOf(plain, 'orphan')
    rmSync(orphan.manifest)
    const noManifest = await runCli(['restore', orphan.dump], target('fresh'))
    expect(noManifest.code).toBe(66)
    expect(noManifest.stderr).toMatch(/complete only with its manifest/)

    const corrupt = copyOf(plain, 'corrupt')
    const bytes = readFileSync(corrupt.dump)
    const middle = Math.floor(bytes.length / 2)
    bytes[middle] = (bytes[middle] as number) ^ 0xff
    writeFileSync(corrupt.dump, bytes)
    const truncated = copyOf(encrypted, 'truncated')
    writeFileSync(truncated.dump, readFileSync(truncated.dump).subarray(0, 1000))
    const [flipped, cut] = await Promise.all([
      runCli(['restore', corrupt.dump], target('fresh')),
      runCli(['restore', truncated.dump], { ...target('fresh'), BACKUP_ENCRYPTION_KEY: IDENTITY }),
    ])
    for (const result of [flipped, cut]) {
      expect(result.code).toBe(65)
      expect(result.stderr).toMatch(
        /is not the file its manifest describes .* corrupt or truncated/,
      )
    }
    expect(await databases()).toEqual(before)
  })

  it('restores an encrypted backup only with its identity', async () => {
    const before = await databases()
    const [none, wrong, recipientOnly] = await Promise.all([
      runCli(['restore', encrypted.dump], target('fresh')),
      runCli(['restore', encrypted.dump], {
        ...target('fresh'),
        BACKUP_ENCRYPTION_KEY: OTHER_IDENTITY,
      }),
      runCli(['restore', encrypted.dump], {
        ...target('fresh'),
        BACKUP_ENCRYPTION_KEY: RECIPIENT,
      }),
    ])
    expect(none.code).toBe(78)
    expect(none.stderr).toMatch(/this backup is encrypted: set BACKUP_ENCRYPTION_KEY/)
    expect(wrong.code).toBe(78)
    expect(wrong.stderr).toMatch(/does not decrypt this backup/)
    expect(recipientOnly.code).toBe(78)
    expect(recipientOnly.stderr).toMatch(/holds a recipient .* restoring needs its identity/)
    expect(await databases()).toEqual(before)

    const restored = await runCli(['restore', encrypted.dump], {
      ...target('decrypted'),
      BACKUP_ENCRYPTION_KEY: IDENTITY,
    })
    expect(restored.code).toBe(0)
    expect(
      await sql(server.urlOf('decrypted'), 'SELECT count(*)::int AS n FROM organizations'),
    ).toEqual([{ n: 3 }])
  })

  it('backs up with only the recipient, so the backing-up host cannot read backups', async () => {
    const dir = dirOf('recipient')
    const made = await runCli(['backup'], {
      ...owner(),
      BACKUP_DESTINATION: dir,
      BACKUP_ENCRYPTION_KEY: RECIPIENT,
    })
    expect(made.code).toBe(0)
    const restored = await runCli(['restore', 'latest'], {
      ...target('from_recipient'),
      BACKUP_DESTINATION: dir,
      BACKUP_ENCRYPTION_KEY: IDENTITY,
    })
    expect(restored.stderr).toBe('')
    expect(restored.code).toBe(0)
  })

  it('refuses before dumping: unwritable destination, database down, a login under RLS, pg_dump older than the server', async () => {
    const blocker = join(root, 'a-file')
    writeFileSync(blocker, '')
    const newer: TestDatabase = await createTestDatabase()
    try {
      const [unwritable, down, restoreDown, underRls, tooOld, badKey] = await Promise.all([
        runCli(['backup'], { ...owner(), BACKUP_DESTINATION: join(blocker, 'backups') }),
        runCli(['backup'], {
          BACKUP_DATABASE_URL: `postgresql://postgres:postgres@127.0.0.1:${await freePort()}/groundwork`,
          BACKUP_DESTINATION: dirOf('down'),
        }),
        runCli(['restore', plain.dump], {
          MIGRATION_DATABASE_URL: `postgresql://postgres:postgres@127.0.0.1:${await freePort()}/groundwork`,
        }),
        runCli(['backup'], {
          BACKUP_DATABASE_URL: server.urlOf('groundwork', TEST_LOGINS.app),
          BACKUP_DESTINATION: dirOf('rls'),
        }),
        // The suite's own server is PostgreSQL 18; the installed pg_dump is older.
        runCli(['backup'], { BACKUP_DATABASE_URL: newer.url, BACKUP_DESTINATION: dirOf('newer') }),
        runCli(['backup'], {
          ...owner(),
          BACKUP_DESTINATION: dirOf('key'),
          BACKUP_ENCRYPTION_KEY: 'hunter2',
        }),
      ])
      expect(unwritable.code).toBe(73)
      expect(unwritable.stderr).toMatch(/cannot write backups to .*a-file\/backups/)
      expect(down.code).toBe(69)
      expect(down.stderr).toMatch(/cannot reach the database at 127\.0\.0\.1:\d+\/groundwork/)
      expect(restoreDown.code).toBe(69)
      expect(underRls.code).toBe(77)
      expect(underRls.stderr).toMatch(
        /groundwork_test_app .* cannot read every row: row-level security applies to it on \d+ tables .*BYPASSRLS/,
      )
      expect(tooOld.code).toBe(78)
      expect(tooOld.stderr).toMatch(
        /is PostgreSQL 15, older than the server .* \(PostgreSQL 1[6-9]\)\. Install the PostgreSQL 1[6-9] client tools/,
      )
      expect(badKey.code).toBe(1)
      expect(badKey.stderr).toMatch(/BACKUP_ENCRYPTION_KEY: must be an age identity/)
      for (const result of [unwritable, down, restoreDown, underRls, tooOld, badKey])
        expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace
      for (const dir of ['down', 'rls', 'newer', 'key'])
        expect(readdirSync(join(root, dir))).toEqual([])
    } finally {
      await newer.drop()
    }
  })

  it('deletes backups older than the retention after a successful one, and only those', async () => {
    const dir = dirOf('retention')
    const old = [
      'groundwork-20200101T000000000Z.dump',
      'groundwork-20200101T000000000Z.manifest.json',
      '.groundwork-20200102T000000000Z.dump.partial',
    ]
    const kept = [
      `groundwork-${new Date(Date.now() - 86_400_000).toISOString().replace(/[-:.]/g, '')}.dump`,
      'groundwork-staging-20200101T000000000Z.dump', // another database's
      'notes.txt',
    ]
    for (const file of [...old, ...kept]) writeFileSync(join(dir, file), 'x')
    const made = await runCli(['backup'], {
      ...owner(),
      BACKUP_DESTINATION: dir,
      BACKUP_RETENTION_DAYS: '7',
    })
    expect(made.code).toBe(0)
    expect(made.stdout).toMatch(
      /retention \(7 days\) deleted groundwork-20200101T000000000Z, groundwork-20200102T000000000Z/,
    )
    const left = readdirSync(dir)
    for (const file of kept) expect(left).toContain(file)
    for (const file of old) expect(left).not.toContain(file)
    expect(left.filter((file) => file.endsWith('.manifest.json'))).toHaveLength(1)
  })
})
