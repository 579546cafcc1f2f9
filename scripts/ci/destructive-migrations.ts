// The deploy pipeline's destructive-change gate (docs/pipeline.md#destructive-migrations).
//
//   node scripts/ci/destructive-migrations.ts --base <git-ref>   migrations new since <git-ref>
//   node scripts/ci/destructive-migrations.ts --all               every migration (a review)
//   node scripts/ci/destructive-migrations.ts <name>...           the named migrations
//
// Options: --migrations <dir> (default packages/db/prisma/migrations), --approve <names>
// (or ALLOW_DESTRUCTIVE_MIGRATIONS): comma-separated migration names whose destructive
// changes are approved. Exit 0: nothing destructive, or all of it approved; 1: a migration
// needs approval; 2: bad usage (unknown ref, directory or name).
// On GitHub Actions it also writes a job summary and the outputs `destructive` (true when
// approved destructive changes are about to run) and `unapproved`.
import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { analyze, type Finding, type Migration } from './migrations/analyze.ts'

const repoRoot = resolve(import.meta.dirname, '../..')
const USAGE =
  'usage: destructive-migrations.ts [--migrations <dir>] (--base <git-ref> | --all | <migration>...) [--approve <names>]'
const DOCS = 'docs/pipeline.md#destructive-migrations'

class UsageError extends Error {}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function listMigrations(dir: string): string[] {
  if (!existsSync(dir)) throw new UsageError(`No migrations directory at ${dir}.`)
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
}

/** The migrations in `dir` that the commit `base` did not have. */
function newSince(dir: string, base: string, all: string[]): string[] {
  let top: string
  try {
    top = git(dir, ['rev-parse', '--show-toplevel']).trim()
  } catch {
    throw new UsageError(`${dir} is not inside a git repository, so --base cannot be used.`)
  }
  try {
    git(top, ['rev-parse', '--verify', '--quiet', `${base}^{commit}`])
  } catch {
    throw new UsageError(
      `Unknown base "${base}": no such commit here. Fetch it first (in GitHub Actions: actions/checkout with fetch-depth: 0).`,
    )
  }
  const path = relative(top, dir)
  const known = new Set(
    git(top, ['ls-tree', '--name-only', `${base}^{commit}`, '--', `${path}/`])
      .split('\n')
      .filter(Boolean)
      .map((entry) => entry.slice(path.length + 1)),
  )
  return all.filter((name) => !known.has(name))
}

function splitNames(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((name) => name.trim())
    .filter(Boolean)
}

function render(selected: string[], findings: Finding[], approved: Set<string>, scope: string) {
  const lines = [`Destructive-change check: ${selected.length} migration(s) ${scope}.`, '']
  const markdown = [
    `### Destructive-change check`,
    '',
    `${selected.length} migration(s) ${scope}.`,
    '',
  ]
  for (const name of selected) {
    const own = findings.filter((finding) => finding.migration === name)
    const verdict = own.length === 0 ? 'ok' : approved.has(name) ? 'APPROVED' : 'NEEDS APPROVAL'
    lines.push(`${name}  ${verdict}`)
    markdown.push(`- \`${name}\`: **${verdict}**`)
    for (const finding of own) {
      lines.push(`  migration.sql:${finding.line}  ${finding.kind}  ${finding.message}`)
      markdown.push(`  - line ${finding.line}, ${finding.kind}: ${finding.message}`)
    }
  }
  return { text: lines.join('\n'), markdown: markdown.join('\n') }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      base: { type: 'string' },
      all: { type: 'boolean', default: false },
      migrations: { type: 'string' },
      approve: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const modes = [values.base !== undefined, values.all, positionals.length > 0].filter(Boolean)
  if (modes.length !== 1)
    throw new UsageError(`Give exactly one of --base, --all or migration names.\n${USAGE}`)
  const dir = resolve(values.migrations ?? join(repoRoot, 'packages/db/prisma/migrations'))
  const all = listMigrations(dir)
  let selected: string[]
  let scope: string
  if (values.base !== undefined) {
    if (!values.base) throw new UsageError(`--base needs a git ref.\n${USAGE}`)
    selected = newSince(dir, values.base, all)
    scope = `new since ${values.base}`
  } else if (values.all) {
    selected = all
    scope = 'in the repository (all of them)'
  } else {
    const unknown = positionals.filter((name) => !all.includes(name))
    if (unknown.length) throw new UsageError(`No such migration in ${dir}: ${unknown.join(', ')}`)
    selected = all.filter((name) => positionals.includes(name))
    scope = 'named'
  }

  const read = (name: string): Migration => ({
    name,
    sql: readFileSync(join(dir, name, 'migration.sql'), 'utf8'),
  })
  const history = all.filter((name) => !selected.includes(name)).map(read)
  const findings = await analyze(selected.map(read), history)

  const approvals = splitNames(values.approve ?? process.env.ALLOW_DESTRUCTIVE_MIGRATIONS)
  const flagged = [...new Set(findings.map((finding) => finding.migration))]
  const approved = new Set(approvals.filter((name) => flagged.includes(name)))
  const unapproved = flagged.filter((name) => !approved.has(name))
  const { text, markdown } = render(selected, findings, approved, scope)
  console.log(text)
  for (const name of approvals.filter((name) => !flagged.includes(name)))
    console.log(
      `\nNote: the approval of "${name}" matches no migration with destructive changes here; it is ignored.`,
    )

  let advice: string
  if (unapproved.length) {
    advice = [
      `${unapproved.length} migration(s) need approval: ${unapproved.join(', ')}.`,
      'They destroy data or break the release that keeps running during the rollout (and after a rollback).',
      'Prefer expand and contract: add the new shape, ship code that uses it, and remove the old one in a later release.',
      `If the change is intended, approve it by name: ALLOW_DESTRUCTIVE_MIGRATIONS=${unapproved.join(',')}`,
      `(the Deploy workflow's allow_destructive_migrations input; see ${DOCS}).`,
    ].join('\n')
  } else if (approved.size) {
    advice = `Destructive changes approved for: ${[...approved].join(', ')}.`
  } else {
    advice = 'Nothing destructive.'
  }
  console.log(`\n${advice}`)

  if (process.env.GITHUB_STEP_SUMMARY)
    appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${markdown}\n\n${advice}\n`)
  if (process.env.GITHUB_OUTPUT)
    appendFileSync(
      process.env.GITHUB_OUTPUT,
      `destructive=${approved.size > 0 && unapproved.length === 0}\nunapproved=${unapproved.join(',')}\n`,
    )
  return unapproved.length ? 1 : 0
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (
    error instanceof UsageError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(error instanceof Error ? error.message : String(error))
    process.exitCode = 2
  } else throw error
}
