import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The promise behind "every guarantee is proven by a test": the tests always run, and the
// tests docs/security.md names beside its claims exist, with the titles it quotes.
const root = fileURLToPath(new URL('..', import.meta.url))

function testFiles(dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', '.git', '.next', 'dist', 'generated', '.turbo'].includes(entry.name))
      return []
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return testFiles(path)
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : []
  })
}

describe('the proof', () => {
  it('runs every test every time: Turborepo never replays the suite from its cache', () => {
    const turbo = JSON.parse(readFileSync(join(root, 'turbo.json'), 'utf8'))
    expect(turbo.tasks['//#test:run'].cache).toBe(false)
  })

  it('names only tests that exist, with titles they have, beside the claims of docs/security.md', () => {
    const doc = readFileSync(join(root, 'docs/security.md'), 'utf8').replace(/\s+/g, ' ')
    const files = testFiles()
    const resolve = (name: string) => {
      const found = files.filter((file) => file === name || file.endsWith(`/${name}`))
      return found.length === 1 ? found[0] : undefined
    }
    const problems: string[] = []
    let named = 0
    let titles = 0
    // A test file in backticks, then (optionally after a few words) the titles it proves,
    // each in double quotes.
    const mention = /`([\w./-]+\.test\.ts)`((?:[^"`()]{0,24}?"[^"]+"(?:,|;| and)?)*)/g
    for (const [, name = '', quoted = ''] of doc.matchAll(mention)) {
      named++
      const file = resolve(name)
      if (!file) {
        problems.push(`${name}: no such test file (or more than one)`)
        continue
      }
      const source = readFileSync(join(root, file), 'utf8')
        .replace(/\\(.)/g, '$1')
        .replace(/\s+/g, ' ')
      for (const [, title = ''] of quoted.matchAll(/"([^"]+)"/g)) {
        titles++
        // A title may be shortened ("...") or end where the doc's sentence goes on.
        const words = title
          .replace(/\.\.\.|…/g, '')
          .replace(/[:;,.]+$/, '')
          .trim()
        if (!source.includes(words)) problems.push(`${file}: no test titled "${title}"`)
      }
    }
    expect(problems).toEqual([])
    expect(named).toBeGreaterThan(80)
    expect(titles).toBeGreaterThan(40)
  })
})
