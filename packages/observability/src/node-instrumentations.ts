import { FastifyOtelInstrumentation } from '@fastify/otel'
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
    new PrismaInstrumentation(),
    ...(service === 'api'
      ? [
          // Fastify's own instrumentation: a span per request, hook and handler, named by
          // the route's pattern; it attaches itself to every Fastify instance created.
          new FastifyOtelInstrumentation({
            registerOnInitialization: true,
            ignorePaths: ({ url }) => UNTRACED_PATHS.has(url),
          }),
        ]
      : []),
  ]
}
