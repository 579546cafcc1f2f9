import { readdirSync } from 'node:fs'
import { expect, it } from 'vitest'
import * as index from './index.ts'

// The web app imports the package's root only: a schema its area file exports but the
// index does not would be one the forms cannot reach.
it('exports every value of every area file', async () => {
  const src = new URL('./', import.meta.url)
  const areas = readdirSync(src).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && file !== 'index.ts',
  )
  expect(areas.length).toBeGreaterThan(0)
  for (const file of areas) {
    const area: Record<string, unknown> = await import(new URL(file, src).href)
    for (const [name, value] of Object.entries(area)) {
      expect({ file, name, value: (index as Record<string, unknown>)[name] }).toEqual({
        file,
        name,
        value,
      })
    }
  }
})
