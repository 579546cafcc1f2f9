import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// The web app bundles this package for the browser: one import of a Node module, Prisma or
// a server package here breaks the bundle or ships server code to every visitor.
const src = new URL('./', import.meta.url)
const sources = readdirSync(src).filter(
  (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
)

/** Every module specifier a file names: static and dynamic imports, re-exports, require. */
function specifiers(code: string) {
  const patterns = [
    /\b(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g,
    /\brequire\s*\(\s*['"`]([^'"`]+)['"`]/g,
  ]
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[1]))
}

describe('@repo/schemas in a browser bundle', () => {
  it('has sources to check', () => {
    expect(sources).toContain('index.ts')
  })

  it.each(sources)('%s imports nothing but zod and its own files', (file) => {
    const code = readFileSync(new URL(file, src), 'utf8')
    const foreign = specifiers(code).filter(
      (specifier) => specifier !== 'zod' && !/^\.\/[\w-]+\.ts$/.test(specifier ?? ''),
    )
    expect(foreign).toEqual([])
  })

  it('depends on zod alone', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', src), 'utf8'))
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['zod'])
    expect(manifest.peerDependencies ?? {}).toEqual({})
    expect(manifest.optionalDependencies ?? {}).toEqual({})
  })

  it('finds every kind of import it checks for', () => {
    const code = [
      "import { readFileSync } from 'node:fs'",
      "import '@repo/db/side-effect'",
      "export { x } from '@repo/auth'",
      "const crypto = await import('node:crypto')",
      "const pg = require('pg')",
      "import type { Prisma } from '@prisma/client'",
    ].join('\n')
    expect(specifiers(code)).toEqual([
      'node:fs',
      '@repo/auth',
      '@prisma/client',
      '@repo/db/side-effect',
      'node:crypto',
      'pg',
    ])
  })
})
