import { FastifyOtelInstrumentation } from '@fastify/otel'
import type { Instrumentation } from '@opentelemetry/instrumentation'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { PrismaInstrumentation } from '@prisma/instrumentation'

// Loaded only when tracing starts (tracing-node.ts).

/** Probes and scrapes are polled every few seconds: a trace each would drown the real ones. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

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
    }),
    new UndiciInstrumentation(),
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
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
