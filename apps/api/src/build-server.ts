import type { IncomingMessage } from 'node:http'
import type { QueryListener } from '@repo/db'
import {
  acceptRequestId,
  createLogger,
  type DestinationStream,
  type Logger,
} from '@repo/observability'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { validatorCompiler } from 'fastify-type-provider-zod'
import app from './app.ts'
import type { ApiEnv } from './env.ts'
import { problem, sendProblem } from './lib/problem.ts'
import {
  installRequestLogContext,
  RequestLogController,
  requestChildLogger,
} from './lib/request-logging.ts'
import {
  type CompiledResponseSchema,
  type ResponseSerialization,
  responseSerializerCompiler,
} from './lib/serializer.ts'

/** The caller's X-Request-Id if it is short and plain (safe to log and echo), else a new one. */
export function requestId(req: IncomingMessage): string {
  return acceptRequestId(req.headers['x-request-id'])
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
  /** Where the logger built from env writes (stdout by default); tests read it back. */
  logDestination?: DestinationStream
  /** Sees every SQL statement the app sends (tests use it to catch N+1 queries). */
  onQuery?: QueryListener
  /** `compiled` in production, else `validated` (ADR 039); tests compare the two. */
  responseSerialization?: ResponseSerialization
  /** Sees each route's compiled response serializer (tests check that every schema compiles). */
  onResponseSchema?: (compiled: CompiledResponseSchema) => void
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
      environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV,
      allowEmails: env.LOG_EMAILS,
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    })
  const server = Fastify({
    loggerInstance,
    genReqId: requestId,
    // One completion line per request, with the route's pattern (ADR 031).
    logController: new RequestLogController(),
    childLoggerFactory: requestChildLogger,
    // Bounded work per request: slow clients and oversized bodies are cut off.
    bodyLimit: 1_048_576,
    connectionTimeout: env.REQUEST_TIMEOUT_MS,
    requestTimeout: env.REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    // Fastify gives each plugin 10 s to start; a cold start beside other processes on a
    // loaded machine has taken longer (the test suite's parallel API processes). A plugin
    // still starting after a minute is stuck; until then the orchestrator's startup probe,
    // not this, decides when to give up.
    pluginTimeout: 60_000,
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
  installRequestLogContext(server)
  // Called once per route and request part when the route is registered; zod compiles the
  // object parser it returns once per schema, on its first use.
  server.setValidatorCompiler(validatorCompiler)
  server.setSerializerCompiler(
    responseSerializerCompiler({
      mode:
        options.responseSerialization ?? (env.NODE_ENV === 'production' ? 'compiled' : 'validated'),
      onCompile: (compiled) => {
        options.onResponseSchema?.(compiled)
        if (compiled.fallback)
          loggerInstance.warn(
            {
              route: `${compiled.method} ${compiled.url}`,
              status: compiled.status,
              reason: compiled.fallback,
            },
            'response schema not compiled: zod serializes it',
          )
      },
    }),
  )
  // Not encapsulated: the app's decorators (config, db, redis...) live on the server itself.
  await server.register(fp(app, { name: 'app' }), {
    env,
    ...(options.onQuery ? { onQuery: options.onQuery } : {}),
  })
  return server
}
