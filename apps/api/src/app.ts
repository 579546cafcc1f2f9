import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import AutoLoad from '@fastify/autoload'
import type { QueryListener } from '@repo/db'
import type { FastifyInstance } from 'fastify'
import type { ApiEnv } from './env.ts'

export interface AppOptions {
  env: ApiEnv
  onQuery?: QueryListener
}

const here = dirname(fileURLToPath(import.meta.url))

/**
 * The API as a plugin: external plugins first, then the app's own (services, error
 * handling), then routes. server.ts only starts it; tests register it through buildServer.
 */
export default async function app(fastify: FastifyInstance, options: AppOptions): Promise<void> {
  fastify.decorate('config', options.env)
  fastify.decorate('draining', false)

  await fastify.register(AutoLoad, {
    dir: join(here, 'plugins/external'),
    options,
    encapsulate: false,
  })
  await fastify.register(AutoLoad, { dir: join(here, 'plugins/app'), options, encapsulate: false })
  await fastify.register(AutoLoad, {
    dir: join(here, 'routes'),
    options,
    autoHooks: true,
    cascadeHooks: true,
    ignorePattern: /\.test\.ts$/,
  })
}

declare module 'fastify' {
  interface FastifyInstance {
    config: ApiEnv
    /** True once shutdown has begun: readiness reports 503 so traffic drains away. */
    draining: boolean
  }
}
