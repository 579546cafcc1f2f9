import type { RequestOptions } from 'node:http'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import type { TracerProvider } from '@opentelemetry/api'
import type { Instrumentation } from '@opentelemetry/instrumentation'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import { PrismaInstrumentation } from '@prisma/instrumentation'
import { NODE_INSTRUMENTATIONS } from '@repo/config'
import { CREDENTIAL_QUERY_PARAMS } from './scrub.ts'
import { UNTRACED_PATHS } from './span-redaction.ts'

// Loaded only when tracing starts (tracing-node.ts).

/**
 * Prisma's spans left out, each a repeat of what pg's span of the same round trip says
 * (with its SQL), or in-process: the driver round trip, serializing its result, and the
 * BEGIN and COMMIT of an interactive transaction. Kept: each operation (model and method)
 * and the transaction around them.
 */
const PRISMA_UNTRACED_SPANS = [
  'prisma:client:db_query',
  'prisma:client:serialize',
  'prisma:client:start_transaction',
  'prisma:client:commit_transaction',
]

/**
 * `host:port` of an outgoing request (or a URL), the port its protocol's default when not
 * given.
 */
export function originOf(
  request: Pick<RequestOptions, 'hostname' | 'host' | 'port' | 'protocol'>,
): string {
  const [hostname = '', portInHost] = (request.hostname ?? request.host ?? '').split(':')
  const port = request.port || portInHost || (request.protocol === 'http:' ? 80 : 443)
  return `${hostname}:${port}`
}

export type NodeInstrumentationName = (typeof NODE_INSTRUMENTATIONS)[number]

/**
 * HTTP in and out (fetch is undici: the worker's webhook deliveries carry traceparent
 * out), Postgres through Prisma and pg, Redis; Fastify's own spans in the API. Postgres
 * and Redis only inside a trace: the outbox relay's and BullMQ's polling would otherwise
 * make a trace of every poll.
 */
export function nodeInstrumentations(
  service: 'api' | 'worker',
  options: {
    tracerProvider?: TracerProvider | undefined
    /** OTEL_NODE_ENABLED_INSTRUMENTATIONS: only these; unset, all. */
    enabled?: readonly NodeInstrumentationName[] | undefined
    /** OTEL_NODE_DISABLED_INSTRUMENTATIONS: not these. */
    disabled?: readonly NodeInstrumentationName[] | undefined
    /**
     * URLs whose host and port take telemetry of our own (Sentry's DSN): no span, no
     * traceparent for calls there. Sentry's transport runs outside its own tracing
     * suppression when OpenTelemetry is set up by us, so each report would otherwise be a
     * trace of its own. Host and port both: another service on the same host is traced.
     */
    untracedUrls?: readonly string[] | undefined
  } = {},
): Instrumentation[] {
  const { tracerProvider, enabled, disabled = [], untracedUrls = [] } = options
  const untracedOrigins = untracedUrls.map((url) => originOf(new URL(url)))
  const wanted = (name: NodeInstrumentationName) =>
    (enabled === undefined || enabled.includes(name)) && !disabled.includes(name)
  const all: Record<NodeInstrumentationName, () => Instrumentation | undefined> = {
    http: () =>
      new HttpInstrumentation({
        // The API's requests are Fastify's: @fastify/otel takes the caller's traceparent and
        // makes the request's server span, named by its route. A second server span of the
        // same request, from Node's http server, would be one more span per request that
        // tells nothing more (ADR 032 lists what the Fastify span lacks).
        disableIncomingRequestInstrumentation: service === 'api',
        ignoreIncomingRequestHook: (request) =>
          UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
        ignoreOutgoingRequestHook: (request) => untracedOrigins.includes(originOf(request)),
        redactedQueryParams: CREDENTIAL_QUERY_PARAMS,
        redactedQueryParamsServer: CREDENTIAL_QUERY_PARAMS,
      }),
    undici: () => new UndiciInstrumentation(),
    // A pool checkout is in-process unless the pool is exhausted, and then the wait shows
    // as the gap before the query's span (and in the pool-wait metric).
    pg: () => new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    // The command's name only: BullMQ's EVALSHA arguments are job data (addresses, names).
    ioredis: () =>
      new IORedisInstrumentation({
        requireParentSpan: true,
        dbStatementSerializer: (command) => command,
      }),
    // A statement is traced once, by pg (its span has the SQL): Prisma's own spans of the
    // same round trips would double the spans of every query for no information
    // (`pnpm bench:api`, BENCH_INSTRUMENTATION).
    prisma: () => new PrismaInstrumentation({ ignoreSpanTypes: PRISMA_UNTRACED_SPANS }),
    fastify: () =>
      service === 'api'
        ? // Fastify's own instrumentation: a span per request and its handler, named by the
          // route's pattern; it attaches itself to every Fastify instance. No span per hook:
          // the hooks' waits on Postgres and Redis (the session, the membership, the rate
          // limits) have spans of their own under the request's, and ten more spans a
          // request cost more than they told (`pnpm bench:api`, docs/benchmarks.md).
          new FastifyOtelInstrumentation({
            registerOnInitialization: true,
            ignorePaths: ({ url }) => UNTRACED_PATHS.has(url),
            instrumentHooks: false,
            // Its server span is called `request`: named as OpenTelemetry's HTTP conventions
            // name server spans instead, `{method} {route}` (the method alone when no route
            // matched), so a trace list tells requests apart.
            requestHook: (span, request) =>
              span.updateName(
                request.routeOptions.url
                  ? `${request.method} ${request.routeOptions.url}`
                  : request.method,
              ),
          })
        : undefined,
  }
  const instrumentations = NODE_INSTRUMENTATIONS.filter(wanted)
    .map((name) => all[name]())
    .filter((instrumentation) => instrumentation !== undefined)
  if (tracerProvider)
    for (const instrumentation of instrumentations) {
      instrumentation.setTracerProvider(tracerProvider)
      // Prisma's takes its provider when it is enabled (its constructor enables it), and
      // keeps the one it took: enabled again, it takes this one.
      if (instrumentation instanceof PrismaInstrumentation) instrumentation.enable()
    }
  return instrumentations
}
