import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The lint rule behind "one way to write" (docs/decisions/019): the repository's own
// biome.json and rule, run on fixture files placed where application code, packages/db
// and tests live. A copy of the layout, so nothing is written into the source tree.
const repoRoot = resolve(import.meta.dirname, '../..')
const biome = join(repoRoot, 'node_modules/@biomejs/biome/bin/biome')
const RULE = 'scripts/lint/one-way-to-write.grit'
const fixture = (name: string) => readFile(join(import.meta.dirname, 'fixtures', name), 'utf8')

let root = ''
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'one-way-to-write-'))
  await mkdir(join(root, dirname(RULE)), { recursive: true })
  await copyFile(join(repoRoot, 'biome.json'), join(root, 'biome.json'))
  await copyFile(join(repoRoot, RULE), join(root, RULE))
})
afterAll(() => rm(root, { recursive: true, force: true }))

/** Lints `source` as if it were the file at `path`; the rule's findings, as `line:column`. */
async function lint(path: string, source: string) {
  await mkdir(join(root, dirname(path)), { recursive: true })
  await writeFile(join(root, path), source)
  const { code, output } = await new Promise<{ code: number; output: string }>((done) =>
    execFile(
      process.execPath,
      [biome, 'lint', '--vcs-enabled=false', '--colors=off', '--max-diagnostics=50', path],
      { cwd: root },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    ),
  )
  const findings = [...output.matchAll(/^\S+?:(\d+):(\d+) plugin\b/gm)].map(
    ([, line, column]) => `${line}:${column}`,
  )
  return { code, output, findings }
}

describe('one way to write: the lint rule', () => {
  it('refuses a write, a transaction and a raw statement on the client, saying what to use', async () => {
    const source = await fixture('writes-on-the-client.ts')
    for (const path of ['packages/core/src/verify-and-sign-out.ts', 'apps/api/src/routes/x.ts']) {
      const { code, output, findings } = await lint(path, source)
      expect(code, output).not.toBe(0)
      // The update, the $transaction and the $executeRaw; not the read before them.
      expect(findings, output).toEqual(['8:9', '9:9', '10:9'])
      expect(output).toContain('Write through withTenant, withUser or withNoContext (@repo/db)')
      expect(output).toContain('Writing to the database')
    }
  })

  it('accepts the same writes through a transaction of withUser', async () => {
    const { code, output, findings } = await lint(
      'packages/core/src/verify-and-sign-out.ts',
      await fixture('writes-in-a-transaction.ts'),
    )
    expect(findings, output).toEqual([])
    expect(code, output).toBe(0)
  })

  it('leaves packages/db (which implements the helpers) and tests alone', async () => {
    const source = await fixture('writes-on-the-client.ts')
    for (const path of [
      'packages/db/src/tenant-fixture.ts',
      'packages/core/src/verify-and-sign-out.test.ts',
      'apps/api/test/fixture.ts',
    ]) {
      const { code, output, findings } = await lint(path, source)
      expect(findings, `${path}\n${output}`).toEqual([])
      expect(code, output).toBe(0)
    }
  })
})
