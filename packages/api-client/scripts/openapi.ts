// The OpenAPI document and the TypeScript types derived from it, both from the API's own
// route schemas. Shared by `pnpm api-client:generate` and the test that
// fails when the committed files are stale.
import { buildServer } from '@repo/api/build-server'
import { apiEnvSchema } from '@repo/api/env'
import { parseEnv } from '@repo/config'
import openapiTS, { astToString } from 'openapi-typescript'

export const DOCUMENT_PATH = new URL('../openapi.json', import.meta.url)
export const TYPES_PATH = new URL('../src/generated/schema.ts', import.meta.url)

/** Builds the API (no database or Redis needed) and returns its OpenAPI document as text. */
export async function currentDocument(): Promise<string> {
  const app = await buildServer(
    parseEnv(apiEnvSchema, {
      NODE_ENV: 'development',
      LOG_LEVEL: 'silent',
      APP_VERSION: '0.0.0',
      // Nothing listens here: start-up tolerates it, and only the route schemas are read.
      DATABASE_URL: 'postgresql://nobody:nothing@127.0.0.1:9/none',
      REDIS_URL: 'redis://127.0.0.1:9',
      REDIS_CONNECT_TIMEOUT_MS: '50',
      DATABASE_CONNECT_TIMEOUT_MS: '50',
      PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
      PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0',
    }),
  )
  try {
    await app.ready()
    return `${JSON.stringify(app.swagger(), null, 2)}\n`
  } finally {
    await app.close()
  }
}

export async function renderTypes(document: string): Promise<string> {
  const ast = await openapiTS(JSON.parse(document))
  return `// Generated from openapi.json by \`pnpm api-client:generate\`. Do not edit.\n\n${astToString(ast)}`
}
