import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

// Every Server Action is reachable by anyone who can send a POST: the origin check and
// the input schema live in defineAction, so a 'use server' module may export nothing else.
const root = join(import.meta.dirname, '..')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', '.next', 'e2e', 'test'].includes(entry.name)) return []
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.tsx?$/.test(entry.name) ? [path] : []
  })
}

const serverModules = sourceFiles(root).filter((file) =>
  /^\s*(['"])use server\1/.test(readFileSync(file, 'utf8')),
)

/** The exports of a module that are not `export const x = defineAction(...)`. */
function unguardedExports(source: string): string[] {
  return [...source.matchAll(/^export\s+(?!const\s+\w+\s*=\s*defineAction\()(.*)$/gm)].map(
    (match) => (match[1] ?? '').trim(),
  )
}

describe("the web app's Server Actions", () => {
  it('are found (the check would pass vacuously otherwise)', () => {
    expect(serverModules.length).toBeGreaterThan(5)
  })

  it.each(serverModules.map((file) => [relative(root, file), file]))(
    '%s exports only actions made by defineAction',
    (_name, file) => {
      expect(unguardedExports(readFileSync(file as string, 'utf8'))).toEqual([])
    },
  )

  it('flags an action written without defineAction', () => {
    expect(
      unguardedExports(
        "'use server'\nexport const ok = defineAction(schema, run)\nexport async function raw() {}\nexport const bare = async () => {}",
      ),
    ).toEqual(['async function raw() {}', 'const bare = async () => {}'])
  })
})
