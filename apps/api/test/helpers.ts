import { parseEnv } from '@repo/config'
import type { FastifyInstance } from 'fastify'
import { buildServer } from '../src/build-server.ts'
import { type ApiEnv, apiEnvSchema } from '../src/env.ts'

/** A validated API env for tests: defaults plus the given overrides. */
export function testEnv(overrides: Record<string, string>): ApiEnv {
  // Generous auth limits by default: most tests sign up many users from one address.
  return parseEnv(apiEnvSchema, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_RATE_LIMIT_PER_MINUTE: '10000',
    ...overrides,
  })
}

/** Builds the real app (all plugins and routes) against the given services, ready for inject(). */
export async function buildTestServer(
  overrides: Record<string, string>,
  /** Adds test-only routes before the server is sealed by ready(). */
  configure?: (server: FastifyInstance) => void,
): Promise<FastifyInstance> {
  const server = await buildServer(testEnv(overrides))
  configure?.(server)
  await server.ready()
  return server
}
