import { type FastifyOtelHookName, FastifyOtelInstrumentation } from '@fastify/otel'
import type { Instrumentation } from '@opentelemetry/instrumentation'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { PrismaInstrumentation } from '@prisma/instrumentation'
import { UNTRACED_PATHS } from './span-redaction.ts'

// Loaded only when tracing starts (tracing-node.ts).

/**
 * Query parameters that carry a credential, redacted by the HTTP instrumentation itself.
 * The exporter drops every query string anyway (span-redaction.ts); this is a second wall.
 */
const SECRET_QUERY_PARAMS = [
  'token',
  'ticket',
  'code',
  'state',
  'secret',
  'key',
  'api_key',
  'signature',
  'sig',
  'password',
  'email',
  'AWSAccessKeyId',
  'Signature',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
]

/** Prisma's spans left out: the driver round trip (pg's span is the same query) and serializing. */
const PRISMA_UNTRACED_SPANS = ['prisma:client:db_query', 'prisma:client:serialize']

/**
 * The Fastify hooks that get a span of their own: those before the handler, where access
 * checks and rate limits wait on Postgres and Redis. After it (onSend, onResponse: headers,
 * metrics, the log line) the work is in-process and brief, and its time is in the request's
 * span all the same.
 */
const TRACED_FASTIFY_HOOKS: FastifyOtelHookName[] = [
  'onRequest',
  'preParsing',
  'preValidation',
  'preHandler',
]

/**
 * HTTP in and out (fetch is undici: the worker's webhook deliveries carry traceparent
 * out), Postgres through Prisma and pg, Redis; Fastify's own spans in the API. Postgres
 * and Redis only inside a trace: the outbox relay's and BullMQ's polling would otherwise
 * make a trace of every poll.
 */
export function nodeInstrumentations(service: 'api' | 'worker'): Instrumentation[] {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) =>
        UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
      redactedQueryParams: SECRET_QUERY_PARAMS,
      redactedQueryParamsServer: SECRET_QUERY_PARAMS,
    }),
    new UndiciInstrumentation(),
    new PgInstrumentation({ requireParentSpan: true }),
    // The command's name only: BullMQ's EVALSHA arguments are job data (addresses, names).
    new IORedisInstrumentation({
      requireParentSpan: true,
      dbStatementSerializer: (command) => command,
    }),
    // A statement is traced once, by pg (its span has the SQL): Prisma's own span of the
    // same round trip through the pg adapter, and of serializing its result, would double
    // the spans of every query for no information (`pnpm bench:api`, BENCH_INSTRUMENTATION).
    new PrismaInstrumentation({ ignoreSpanTypes: PRISMA_UNTRACED_SPANS }),
    ...(service === 'api'
      ? [
          // Fastify's own instrumentation: a span per request, hook before the handler and
          // handler, named by the route's pattern; it attaches itself to every Fastify instance.
          new FastifyOtelInstrumentation({
            registerOnInitialization: true,
            ignorePaths: ({ url }) => UNTRACED_PATHS.has(url),
            instrumentHooks: TRACED_FASTIFY_HOOKS,
          }),
        ]
      : []),
  ]
}
