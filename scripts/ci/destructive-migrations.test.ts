import { execFile, execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { analyze } from './migrations/analyze.ts'

// The deploy pipeline's destructive-change gate: fixture migrations of every kind it must
// stop (each says `-- expect: <kinds>` on its first line) and of the safe changes it must
// let through, checked against the schema of the fixture `..._base`; then the command
// itself, as deploy.yml runs it, on a git history.
const repoRoot = resolve(import.meta.dirname, '../..')
const fixtures = join(import.meta.dirname, 'fixtures/migrations')
const BASE = '20260101000000_base'
const read = (dir: string, name: string) => ({
  name,
  sql: readFileSync(join(dir, name, 'migration.sql'), 'utf8'),
})
const cases = readdirSync(fixtures)
  .filter((name) => name !== BASE)
  .sort()
  .map((name) => {
    const migration = read(fixtures, name)
    const expected = /^-- expect: (.+)$/m.exec(migration.sql)?.[1] ?? ''
    return { name, migration, expected: expected === 'safe' ? [] : expected.split(/,\s*/) }
  })

const temps: string[] = []
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true })
})

function gate(args: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot) {
  return new Promise<{ code: number; output: string }>((done) =>
    execFile(
      process.execPath,
      [join(import.meta.dirname, 'destructive-migrations.ts'), ...args],
      {
        cwd,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    ),
  )
}

describe('the destructive-change gate: what it finds', () => {
  it('has a fixture for every kind of change it stops, and safe ones', () => {
    const kinds = new Set(cases.flatMap((fixture) => fixture.expected))
    expect([...kinds].sort()).toEqual(
      [
        'delete-all',
        'drop',
        'drop-column',
        'drop-default',
        'drop-unique',
        'not-null-without-default',
        'parse-error',
        'rename',
        'set-not-null',
        'truncate',
        'type-change',
        'unverifiable',
      ].sort(),
    )
    expect(cases.filter((fixture) => fixture.expected.length === 0).length).toBeGreaterThan(8)
  })

  it.each(cases)('$name', async ({ migration, expected }) => {
    const findings = await analyze([migration], [read(fixtures, BASE)])
    expect([...new Set(findings.map((finding) => finding.kind))]).toEqual(expected)
    // Each finding says what the statement does, naming the object.
    for (const finding of findings) expect(finding.message.length).toBeGreaterThan(20)
  })

  it('points at the line of the statement, after the comments before it', async () => {
    const findings = await analyze(
      [read(fixtures, '20260201002400_several_in_one_alter')],
      [read(fixtures, BASE)],
    )
    expect(findings.map((finding) => finding.line)).toEqual([3, 3, 3])
    expect(findings[0]?.message).toContain('public.users.display')
    const [broken] = await analyze([read(fixtures, '20260201002500_not_sql')], [])
    expect(broken).toMatchObject({ line: 2, kind: 'parse-error' })
    expect(broken?.message).toContain('syntax error at or near')
  })

  it('sees what earlier migrations of the same deploy did', async () => {
    // The second migration narrows a column the first one created: not a new table, so it
    // counts; and it knows the type the first one gave it.
    const findings = await analyze(
      [
        { name: 'a', sql: 'ALTER TABLE "users" ADD COLUMN "code" VARCHAR(40);' },
        { name: 'b', sql: 'ALTER TABLE "users" ALTER COLUMN "code" TYPE VARCHAR(10);' },
      ],
      [read(fixtures, BASE)],
    )
    expect(findings).toEqual([expect.objectContaining({ migration: 'b', kind: 'type-change' })])
    expect(findings[0]?.message).toContain('from varchar(40) to varchar(10)')
  })

  it("reports the repository's own history, where three migrations would have needed approval", async () => {
    // The baseline: deploys check only migrations newer than the release running, so these
    // never block; they are reported here to show the gate reads real migrations sensibly.
    // 20261201090000 dropped a function the previous release still called (and the next
    // migration had to bring it back for rolling deploys), 20261123074500 renamed an enum
    // type that Prisma's queries name, and 20261123060000 runs SQL built at run time.
    const { code, output } = await gate(['--all'])
    expect(code, output).toBe(1)
    const flagged = [...output.matchAll(/^(\d{14}_\w+)\s+NEEDS APPROVAL$/gm)].map((m) => m[1])
    expect(flagged).toEqual([
      '20261123060000_harden_definer_functions',
      '20261123074500_webhook_delivery_retention',
      '20261201090000_batched_removals',
    ])
    expect(output).toContain('drops function app_membership_role')
    expect(output).toContain('renames type WebhookDeliveryStatus to webhook_delivery_status')
    expect(output).toMatch(/unverifiable\s+runs dynamic SQL/)
  })
})

describe('the destructive-change gate: the command', () => {
  // A repository whose base commit has the base schema and one safe migration; the work
  // tree adds a safe and a destructive one, as a deploy of a newer commit would.
  function repository() {
    const root = mkdtempSync(join(tmpdir(), 'destructive-migrations-'))
    temps.push(root)
    const dir = join(root, 'db/migrations')
    const copy = (name: string) =>
      cpSync(join(fixtures, name), join(dir, name), { recursive: true })
    const run = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' })
    run('init', '--quiet')
    copy(BASE)
    copy('20260301000100_add_nullable_column')
    run('add', '.')
    run('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'base')
    const base = run('rev-parse', 'HEAD').trim()
    copy('20260301000300_create_index_concurrently')
    copy('20260201000200_drop_column')
    writeFileSync(join(root, 'summary.md'), '')
    writeFileSync(join(root, 'output.txt'), '')
    return {
      base,
      dir,
      summary: () => readFileSync(join(root, 'summary.md'), 'utf8'),
      outputs: () => readFileSync(join(root, 'output.txt'), 'utf8'),
      env: {
        GITHUB_STEP_SUMMARY: join(root, 'summary.md'),
        GITHUB_OUTPUT: join(root, 'output.txt'),
      },
    }
  }

  it('checks only the migrations newer than the base and fails on an unapproved one, saying how to approve it', async () => {
    const repo = repository()
    const { code, output } = await gate(['--migrations', repo.dir, '--base', repo.base], repo.env)
    expect(code, output).toBe(1)
    expect(output).toContain('2 migration(s) new since')
    expect(output).toMatch(/^20260301000300_create_index_concurrently {2}ok$/m)
    expect(output).toMatch(/^20260201000200_drop_column {2}NEEDS APPROVAL$/m)
    expect(output).toContain('migration.sql:2  drop-column  drops column public.users.nickname')
    expect(output).not.toContain('20260301000100_add_nullable_column')
    expect(output).toContain('ALLOW_DESTRUCTIVE_MIGRATIONS=20260201000200_drop_column')
    expect(repo.outputs()).toBe('destructive=false\nunapproved=20260201000200_drop_column\n')
    expect(repo.summary()).toContain('`20260201000200_drop_column`: **NEEDS APPROVAL**')
  })

  it('passes a destructive migration approved by name, and tells the workflow it is destructive', async () => {
    const repo = repository()
    for (const [args, env] of [
      [['--approve', '20260201000200_drop_column'], {}],
      [[], { ALLOW_DESTRUCTIVE_MIGRATIONS: 'other_one, 20260201000200_drop_column' }],
    ] as const) {
      writeFileSync(repo.env.GITHUB_OUTPUT, '')
      const { code, output } = await gate(
        ['--migrations', repo.dir, '--base', repo.base, ...args],
        { ...repo.env, ...env },
      )
      expect(code, output).toBe(0)
      expect(output).toMatch(/^20260201000200_drop_column {2}APPROVED$/m)
      expect(repo.outputs()).toBe('destructive=true\nunapproved=\n')
    }
  })

  it('approves only the migrations named: another name, or a prefix, approves nothing', async () => {
    const repo = repository()
    for (const approval of ['20260301000300_create_index_concurrently', '20260201000200', '*']) {
      const { code, output } = await gate([
        '--migrations',
        repo.dir,
        '--base',
        repo.base,
        '--approve',
        approval,
      ])
      expect(code, output).toBe(1)
      expect(output).toContain(`the approval of "${approval}" matches no migration`)
    }
  })

  it('passes when nothing is new, and checks named migrations on request', async () => {
    const repo = repository()
    const head = await gate(['--base', 'HEAD'])
    expect(head.code, head.output).toBe(0)
    expect(head.output).toContain('Nothing destructive.')
    const named = await gate(['--migrations', repo.dir, '20260301000300_create_index_concurrently'])
    expect(named.code, named.output).toBe(0)
  })

  it('refuses bad usage with a clear message and exit code 2', async () => {
    const repo = repository()
    const runs = [
      [['--migrations', repo.dir, '--base', 'no-such-ref'], 'Unknown base "no-such-ref"'],
      [['--migrations', repo.dir], 'Give exactly one of --base, --all or migration names'],
      [['--migrations', repo.dir, 'nope'], 'No such migration'],
      [['--migrations', join(repo.dir, 'missing'), '--all'], 'No migrations directory'],
      [['--migrations', repo.dir, '--all', '--base', repo.base], 'Give exactly one'],
      [['--frobnicate'], "Unknown option '--frobnicate'"],
    ] as const
    for (const [args, message] of runs) {
      const { code, output } = await gate([...args])
      expect(code, output).toBe(2)
      expect(output).toContain(message)
      expect(output).not.toMatch(/\n\s+at /)
    }
    const outside = mkdtempSync(join(tmpdir(), 'destructive-migrations-'))
    temps.push(outside)
    cpSync(join(fixtures, BASE), join(outside, BASE), { recursive: true })
    const noGit = await gate(['--migrations', outside, '--base', 'main'], {}, outside)
    expect(noGit.code, noGit.output).toBe(2)
    expect(noGit.output).toContain('not inside a git repository')
  })
})
