import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import {
  appendFileSync,
  cpSync,
  existsSync,
  type FSWatcher,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  watch,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitUntil } from '@repo/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// scripts/prisma-generate.mjs in a copy of this package (its node_modules linked), so a
// schema can change and the client be regenerated without touching the client every other
// test imports. `pnpm dev`'s api and worker restart on changes under src/ and ignore those
// made while they restart: the client must appear there in one step, never file by file,
// or a restart can load half of it and wait for a change that has already happened.
const dbDir = fileURLToPath(new URL('..', import.meta.url))
const root = mkdtempSync(join(tmpdir(), 'groundwork-prisma-generate-'))
const pkg = join(root, 'db')
const schema = join(pkg, 'prisma/schema.prisma')
const client = join(pkg, 'src/generated/prisma/client.ts')

function generate() {
  try {
    return execFileSync(process.execPath, [join(pkg, 'scripts/prisma-generate.mjs'), '--quiet'], {
      cwd: pkg,
      encoding: 'utf8',
      stdio: 'pipe',
      env: { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new Error(`generation failed:\n${stdout ?? ''}${stderr ?? ''}`)
  }
}

/**
 * Every path under src/ a recursive watcher reports while `action` runs, each with what
 * `inspect` found when the change was reported.
 */
async function changesDuring<T>(
  action: () => Promise<unknown> | unknown,
  inspect: () => T = () => undefined as T,
): Promise<{ file: string; found: T }[]> {
  const seen: { file: string; found: T }[] = []
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(join(pkg, 'src'), { recursive: true }, (_event, file) => {
      if (file) seen.push({ file, found: inspect() })
    })
    await action()
    // Events arrive in order: once this one is reported, every earlier one has been.
    writeFileSync(join(pkg, 'src/flushed'), '')
    await waitUntil(() => seen.some(({ file }) => file === 'flushed'), {
      what: 'the watcher to report every change',
      timeoutMs: 10_000,
    })
    return seen.filter(({ file }) => file !== 'flushed')
  } finally {
    watcher?.close()
    rmSync(join(pkg, 'src/flushed'), { force: true })
  }
}

/** The generator as `pnpm dev` runs it: in a child, while this process watches. */
function generateInBackground() {
  const child = spawn(process.execPath, [join(pkg, 'scripts/prisma-generate.mjs'), '--quiet'], {
    cwd: pkg,
    stdio: 'ignore',
  })
  return new Promise<void>((resolve, reject) =>
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`generation exited ${code}`)),
    ),
  )
}

beforeAll(() => {
  mkdirSync(join(pkg, 'src'), { recursive: true })
  for (const entry of ['scripts', 'prisma', 'prisma.config.ts', 'package.json'])
    cpSync(join(dbDir, entry), join(pkg, entry), { recursive: true })
  symlinkSync(join(dbDir, 'node_modules'), join(pkg, 'node_modules'))
  generate()
}, 60_000)

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('generating the Prisma client', () => {
  it('puts a changed client in place in one step: whenever src/ changes, the client there is whole', async () => {
    appendFileSync(schema, '\nmodel SwapProbe {\n  id String @id\n}\n')
    const models = join(pkg, 'src/generated/prisma/models')
    // What a restarting app would load, looked at the moment each change is reported.
    const clientState = () => {
      if (!existsSync(client)) return 'none'
      const whole =
        existsSync(join(pkg, 'src/generated/prisma/.prisma-inputs')) &&
        readFileSync(client, 'utf8').includes('SwapProbe') &&
        existsSync(join(models, 'SwapProbe.ts')) &&
        existsSync(join(models, 'User.ts'))
      return whole ? 'whole' : 'partial'
    }
    const changes = await changesDuring(generateInBackground, clientState)

    expect(readFileSync(client, 'utf8')).toContain('SwapProbe')
    expect(changes.map(({ found }) => found)).toContain('whole')
    expect(changes.filter(({ found }) => found === 'partial')).toEqual([])
    // No lock, work directory or stamp of the generator's appears under src/: only the
    // client and the file rewritten after it, for the watchers.
    const others = changes.filter(
      ({ file }) => !/^generated(\/prisma(\/.*)?|\/\.prisma-generated)?$/.test(file),
    )
    expect(others.map(({ file }) => file)).toEqual([])
    expect(existsSync(join(pkg, '.prisma-generate/work'))).toBe(false)
  }, 60_000)

  it('does nothing when its inputs have not changed', async () => {
    const changes = await changesDuring(() => expect(generate()).toBe(''))
    expect(changes).toEqual([])
  }, 90_000)

  it('leaves the working client alone when the schema cannot be generated, and recovers once it can', () => {
    const before = readFileSync(client, 'utf8')
    const valid = readFileSync(schema, 'utf8')
    appendFileSync(schema, '\nmodel HalfWritten {\n  id String @id\n')
    expect(generate).toThrow(/prisma generate failed/)
    expect(readFileSync(client, 'utf8')).toBe(before)

    writeFileSync(schema, `${valid}\nmodel Recovered {\n  id String @id\n}\n`)
    expect(generate()).toContain('generated')
    expect(readFileSync(client, 'utf8')).toContain('Recovered')
  }, 60_000)

  it('restarts a node --watch-path process on every regeneration, on the whole client each time', async () => {
    // What `pnpm dev` runs the api and worker under; each start reports what it found.
    const probe = join(root, 'probe.mjs')
    writeFileSync(
      probe,
      `import { existsSync, readFileSync } from 'node:fs'
const client = ${JSON.stringify(client)}
const text = existsSync(client) ? readFileSync(client, 'utf8') : ''
const whole = existsSync(${JSON.stringify(join(pkg, 'src/generated/prisma/.prisma-inputs'))})
console.log('started ' + JSON.stringify({ whole, models: text.match(/WatchProbe\\d/g) ?? [] }))
setInterval(() => {}, 60_000)
`,
    )
    const child = spawn(
      process.execPath,
      ['--watch-path', join(pkg, 'src'), '--watch-preserve-output', probe],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const starts = () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('started '))
        .map(
          (line) =>
            JSON.parse(line.slice('started '.length)) as { whole: boolean; models: string[] },
        )
    try {
      await waitUntil(() => starts().length === 1, {
        what: 'the watched process to start',
        timeoutMs: 15_000,
        detail: () => output,
      })
      // Twice: a watcher that caught the first swap by accident must catch the second too.
      for (const model of ['WatchProbe1', 'WatchProbe2']) {
        appendFileSync(schema, `\nmodel ${model} {\n  id String @id\n}\n`)
        expect(generate()).toContain('generated')
        await waitUntil(() => starts().some(({ models }) => models.includes(model)), {
          what: `a restart on the client with ${model}`,
          timeoutMs: 15_000,
          detail: () => output,
        })
      }
      expect(starts().filter(({ whole }) => !whole)).toEqual([])
    } finally {
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    }
  }, 90_000)
})
