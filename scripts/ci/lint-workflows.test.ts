import { execFile } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { lintWorkflows } from './lint-workflows.ts'

// The repository's GitHub Actions workflows pass actionlint, shellcheck and our pinning and
// permission rules; a workflow with one mistake of each kind proves the lint can fail.
const repoRoot = resolve(import.meta.dirname, '../..')
const fixtures = join(import.meta.dirname, 'fixtures/workflows')
const temps: string[] = []
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true })
})

function withBrokenFiles() {
  const root = mkdtempSync(join(tmpdir(), 'lint-workflows-'))
  temps.push(root)
  for (const [from, to] of [
    ['broken.yml', '.github/workflows/broken.yml'],
    ['broken-action.yml', '.github/actions/broken/action.yml'],
  ] as const) {
    mkdirSync(dirname(join(root, to)), { recursive: true })
    cpSync(join(fixtures, from), join(root, to))
  }
  return root
}

/** Every `uses:` in the workflows and actions, read as text (not through the lint). */
function usesLines() {
  const files = [
    ...readdirSync(join(repoRoot, '.github/workflows')).map((name) => `.github/workflows/${name}`),
    ...readdirSync(join(repoRoot, '.github/actions')).map(
      (name) => `.github/actions/${name}/action.yml`,
    ),
  ]
  return files.flatMap((file) =>
    readFileSync(join(repoRoot, file), 'utf8')
      .split('\n')
      .map((line, index) => ({ file, line: index + 1, text: line }))
      .filter(({ text }) => /^\s*(?:-\s+)?uses:/.test(text)),
  )
}

// Each run loads actionlint's WebAssembly and starts shellcheck per script: seconds, more on a
// loaded machine.
describe('the workflow lint', { timeout: 60_000 }, () => {
  it('finds nothing in the repository: actionlint, shellcheck, pins, permissions, timeouts', async () => {
    const problems = await lintWorkflows(repoRoot)
    expect(problems).toEqual([])
  })

  it('lints every workflow, reusable workflow and composite action there is', () => {
    const workflows = readdirSync(join(repoRoot, '.github/workflows')).sort()
    expect(workflows).toEqual(
      expect.arrayContaining([
        'ci.yml',
        'deploy.yml',
        'deploy-environment.yml',
        'preview.yml',
        'rollback.yml',
      ]),
    )
    expect(readdirSync(join(repoRoot, '.github/actions')).sort()).toEqual(['build-image', 'setup'])
  })

  it('pins every action from outside the repository to a full commit SHA, with its version beside it', () => {
    const uses = usesLines()
    expect(uses.length).toBeGreaterThan(20)
    const versions = new Map<string, string>()
    for (const { file, line, text } of uses) {
      const value = /uses:\s*(\S+)/.exec(text)?.[1] ?? ''
      if (value.startsWith('./')) continue
      expect(value, `${file}:${line}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/)
      const version = /#\s*(v\d+\.\d+\.\d+)\s*$/.exec(text)?.[1]
      expect(version, `${file}:${line}: no "# vX.Y.Z" after the SHA`).toBeDefined()
      // One SHA, one version, wherever it is used.
      const known = versions.get(value)
      if (known) expect(version, `${file}:${line}`).toBe(known)
      else versions.set(value, version ?? '')
    }
  })

  it('fails on a workflow with one mistake of each kind, naming file, line and rule', async () => {
    const problems = await lintWorkflows(withBrokenFiles())
    expect(problems.map((p) => `${p.file}:${p.line} ${p.kind}`)).toEqual([
      '.github/actions/broken/action.yml:6 pin',
      '.github/actions/broken/action.yml:8 shellcheck',
      '.github/workflows/broken.yml:17 pin',
      '.github/workflows/broken.yml:18 pin',
      '.github/workflows/broken.yml:19 pin',
      '.github/workflows/broken.yml:20 actionlint expression',
      '.github/workflows/broken.yml:21 actionlint expression',
      '.github/workflows/broken.yml:24 shellcheck',
      '.github/workflows/broken.yml:27 permissions',
      '.github/workflows/broken.yml:27 timeout',
      '.github/workflows/broken.yml:33 actionlint job-needs',
      '.github/workflows/broken.yml:33 permissions',
      '.github/workflows/broken.yml:35 pin',
    ])
    const text = problems.map((p) => p.message).join('\n')
    expect(text).toContain('"github.event.pull_request.title" is potentially untrusted')
    expect(text).toContain('SC2086: Double quote to prevent globbing and word splitting.')
    expect(text).toContain('actions/checkout@v6: pin the action to a full 40-character commit SHA')
    expect(text).toContain('say which version the SHA is')
  })

  function cli(root: string, path?: string) {
    return new Promise<{ code: number; output: string }>((done) =>
      execFile(
        process.execPath,
        [join(import.meta.dirname, 'lint-workflows.ts'), root],
        { env: { PATH: path ?? process.env.PATH } },
        (error, stdout, stderr) =>
          done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      ),
    )
  }

  it('as a command (pnpm lint:workflows): exit 1 with the findings, 0 when clean', async () => {
    const broken = await cli(withBrokenFiles())
    expect(broken.code, broken.output).toBe(1)
    expect(broken.output).toContain('.github/workflows/broken.yml:24:16: SC2086')
    expect(broken.output).toContain('13 problem(s) in the workflows.')
    const clean = await cli(repoRoot)
    expect(clean.code, clean.output).toBe(0)
  })

  it('says to install shellcheck when it is missing (exit 2), instead of passing scripts unchecked', async () => {
    // A PATH with node and nothing else.
    const bin = mkdtempSync(join(tmpdir(), 'lint-workflows-bin-'))
    temps.push(bin)
    symlinkSync(process.execPath, join(bin, 'node'))
    const { code, output } = await cli(repoRoot, bin)
    expect(code, output).toBe(2)
    expect(output).toContain(
      'shellcheck is not installed: install it (`apt-get install shellcheck`',
    )
  })
})
