import { describe, expect, it } from 'vitest'
import { devEnvSchema } from './env.ts'

describe("pnpm dev's environment", () => {
  it('refuses API_PORT=0, which the API alone accepts: the ready check must know the port', () => {
    const portIssues = (API_PORT: string) =>
      devEnvSchema.safeParse({ API_PORT }).error?.issues.filter((i) => i.path[0] === 'API_PORT')
    expect(portIssues('0')).toMatchObject([
      { message: expect.stringContaining('pnpm dev needs a fixed port') },
    ])
    expect(portIssues('4100')).toEqual([])
  })
})
