import { createConfig, lintFromString } from '@redocly/openapi-core'
import { describe, expect, it } from 'vitest'
import { currentDocument } from '../scripts/openapi.ts'

// The API's own document, linted with Redocly's recommended rules: no errors (warnings
// are printed by `pnpm exec redocly lint` for whoever wants them). Among the errors this
// catches: an operation without `security` (so clients would think it public), no
// `servers`, broken references.
describe('the OpenAPI document', () => {
  it("passes Redocly's recommended rules without an error", async () => {
    const source = await currentDocument()
    const problems = await lintFromString({
      source,
      absoluteRef: 'openapi.json',
      config: await createConfig({ extends: ['recommended'] }),
    })
    const errors = problems
      .filter((problem) => problem.severity === 'error')
      .map((problem) => `${problem.ruleId}: ${problem.message} (${problem.location[0]?.pointer})`)
    expect(errors).toEqual([])
  })

  it('says which operations need a token, and names every operation', async () => {
    const document = JSON.parse(await currentDocument()) as {
      servers: unknown[]
      paths: Record<string, Record<string, { security?: unknown[]; operationId?: string }>>
    }
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }])
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, ...operation })),
    )
    const byId = new Map(operations.map((op) => [op.operationId, op]))
    expect(byId.size).toBe(operations.length)
    expect(byId.get('getReadyz')?.security).toEqual([])
    expect(byId.get('postAuthSignIn')?.security).toEqual([])
    expect(byId.get('getOrgsByOrgIdProjects')?.security).toEqual([{ bearer: [] }])
    expect(byId.get('getAuthMe')?.security).toEqual([{ bearer: [] }])
  })
})
