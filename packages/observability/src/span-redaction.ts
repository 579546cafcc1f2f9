import {
  type Attributes,
  type Context,
  isSpanContextValid,
  type Link,
  type SpanKind,
  trace,
} from '@opentelemetry/api'
import type { ExportResult } from '@opentelemetry/core'
import {
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type SpanExporter,
} from '@opentelemetry/sdk-trace'
import { scrubEmails, withoutQuery } from './scrub.ts'

// Loaded only when tracing starts (tracing-sdk.ts). What every exported span passes
// through, whichever instrumentation or framework made it (ADR 032, "Span attributes").

/** Probes and scrapes are polled every few seconds: a trace each would drown the real ones. */
export const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * Attributes that hold a URL or a request target. A query string carries single-use
 * credentials (a password reset's or an invitation's token, an OAuth code, a ticket, a
 * customer endpoint's secret), so only what precedes it is exported.
 */
const URL_ATTRIBUTES = new Set([
  'http.target',
  'http.url',
  'http.route',
  'url.full',
  'url.path',
  'url.original',
  'url.template',
])

/** Attributes that are nothing but a query string: dropped. */
const QUERY_ATTRIBUTES = new Set(['url.query', 'http.query'])

const holdsUrl = (key: string) =>
  URL_ATTRIBUTES.has(key) || key.startsWith('next.') || key.endsWith('.url')

/** Attributes that hold an SQL statement's text. */
const STATEMENT_ATTRIBUTES = new Set(['db.statement', 'db.query.text'])

/**
 * Statements go out as their text, values being parameters; the one exception is a tenant
 * transaction's `BEGIN`, which writes its row-level security settings (organization, user,
 * a presented secret's hash) as literals (ADR 037). Their values are blanked.
 */
const SETTING_LITERAL = /(set_config\('app\.[a-z_]+', )\s*E?'(?:[^']|'')*'/g
const withoutSettingValues = (statement: string) => statement.replace(SETTING_LITERAL, "$1'…'")

/**
 * A copy of `attributes` without query strings in URLs, setting values in statements and
 * email addresses.
 */
export function redactAttributes(attributes: Attributes): Attributes {
  const redacted: Attributes = {}
  for (const [key, value] of Object.entries(attributes)) {
    if (QUERY_ATTRIBUTES.has(key)) continue
    redacted[key] = scrubEmails(
      typeof value !== 'string'
        ? value
        : holdsUrl(key)
          ? withoutQuery(value)
          : STATEMENT_ATTRIBUTES.has(key)
            ? withoutSettingValues(value)
            : value,
    )
  }
  return redacted
}

/** The span as it may leave the process: its attributes, events' and status' redacted. */
export function redactSpan(span: ReadableSpan): ReadableSpan {
  return {
    name: scrubEmails(span.name),
    kind: span.kind,
    spanContext: () => span.spanContext(),
    ...(span.parentSpanContext ? { parentSpanContext: span.parentSpanContext } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status: scrubEmails({ ...span.status }),
    attributes: redactAttributes(span.attributes),
    links: span.links.map((link) => ({
      ...link,
      ...(link.attributes ? { attributes: redactAttributes(link.attributes) } : {}),
    })),
    events: span.events.map((event) => ({
      ...event,
      name: scrubEmails(event.name),
      ...(event.attributes ? { attributes: redactAttributes(event.attributes) } : {}),
    })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  }
}

/**
 * Wraps an exporter (the collector's, Sentry's): every span is redacted before it is
 * serialised, so no instrumentation's choice of attributes can leak a token or an address.
 */
export class RedactingSpanExporter implements SpanExporter {
  private readonly inner: SpanExporter

  constructor(inner: SpanExporter) {
    this.inner = inner
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(redactSpan), resultCallback)
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }
}

/** The request path a server span starts with (Next.js: http.target; semconv: url.path). */
function requestPath(attributes: Attributes): string | undefined {
  const target = attributes['http.target'] ?? attributes['url.path']
  return typeof target === 'string' ? withoutQuery(target) : undefined
}

/**
 * Drops a trace that would start at a probe or a scrape (Next.js traces every request,
 * /healthz included, and sets http.target when the span starts); every other decision is
 * the configured sampler's.
 */
export class ProbeDroppingSampler implements Sampler {
  /** The configured sampler, which decides every span but a probe's root. */
  readonly inner: Sampler

  constructor(inner: Sampler) {
    this.inner = inner
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    // Called for every span: a child (most spans) is decided without reading attributes.
    const parent = trace.getSpanContext(context)
    if (!(parent && isSpanContextValid(parent))) {
      const path = requestPath(attributes ?? {})
      if (path && UNTRACED_PATHS.has(path)) return { decision: SamplingDecision.NOT_RECORD }
    }
    return this.inner.shouldSample(context, traceId, spanName, spanKind, attributes, links)
  }

  toString(): string {
    return `ProbeDroppingSampler{${this.inner.toString()}}`
  }
}
