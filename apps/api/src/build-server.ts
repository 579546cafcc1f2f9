import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { createLogger, type Logger } from '@repo/observability'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import fp from 'fastify-plugin'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import app from './app.ts'
import type { ApiEnv } from './env.ts'
import { problem, sendProblem } from './lib/problem.ts'

// Accept a caller's request id only if it is short and plain, so it is safe to log/echo.
const REQUEST_ID = /^[\w.:-]{1,128}$/

export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id']
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
}

/** TRUST_PROXY as Fastify takes it: false, or the addresses whose X-Forwarded-For counts. */
function trustProxy(value: string): false | string[] {
  if (value === 'false' || value === '') return false
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
}

export interface BuildOptions {
  /** Defaults to a logger built from env; tests pass a silent or capturing one. */
  logger?: Logger
  /** Sees every SQL statement the app sends (tests use it to catch N+1 queries). */
  onQuery?: (sql: string) => void
}

/** Creates the Fastify instance with server-level options and registers the app plugin. */
export async function buildServer(
  env: ApiEnv,
  options: BuildOptions = {},
): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger =
    options.logger ??
    createLogger({
      service: 'api',
      level: env.LOG_LEVEL,
      pretty: env.LOG_PRETTY,
      version: env.APP_VERSION,
    })
  const server = Fastify({
    loggerInstance,
    genReqId: requestId,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // Bounded work per request: slow clients and oversized bodies are cut off.
    bodyLimit: 1_048_576,
    connectionTimeout: env.REQUEST_TIMEOUT_MS,
    requestTimeout: env.REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    trustProxy: trustProxy(env.TRUST_PROXY ?? 'loopback'),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // URLs the router refuses before any route or hook (malformed, a segment over 200
    // characters) get the same problem+json as everything else.
    frameworkErrors: (error, _request, reply) => {
      // One problem type per status (RFC 9457, section 4): a URL too long is not a bad one.
      const status = error.statusCode ?? 400
      sendProblem(
        reply,
        problem(
          status,
          status === 414
            ? {
                type: 'urn:groundwork:problem:url_too_long',
                detail: 'A part of the URL is longer than allowed.',
              }
            : { type: 'urn:groundwork:problem:bad_url', detail: 'The URL is not valid.' },
        ),
      )
    },
  })
  server.setValidatorCompiler(validatorCompiler)
  server.setSerializerCompiler(serializerCompiler)
  // Not encapsulated: the app's decorators (config, db, redis...) live on the server itself.
  await server.register(fp(app, { name: 'app' }), {
    env,
    ...(options.onQuery ? { onQuery: options.onQuery } : {}),
  })
  return server
}
