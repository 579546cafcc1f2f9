import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { currentDocument, DOCUMENT_PATH, renderTypes, TYPES_PATH } from '../scripts/openapi.ts'

// The client is generated, then committed: this fails when a route changed and nobody
// regenerated it (`pnpm api-client:generate`).
describe('the typed API client', () => {
  it('matches the API it was generated from', async () => {
    const document = await currentDocument()
    const message = 'stale: run `pnpm api-client:generate` and commit the result'
    expect(readFileSync(DOCUMENT_PATH, 'utf8') === document, `openapi.json is ${message}`).toBe(
      true,
    )
    expect(
      readFileSync(TYPES_PATH, 'utf8') === (await renderTypes(document)),
      `src/generated/schema.ts is ${message}`,
    ).toBe(true)
  })
})
