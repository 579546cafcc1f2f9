import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { createCollector } from './collector.ts'

/** One span as a test reads it: ids in hex, attributes as plain values. */
export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  /** OTLP's SpanKind number: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number
  /** The resource's service.name: which process sent it. */
  service: string
  /** The instrumentation scope (library) that made it, e.g. @opentelemetry/instrumentation-pg. */
  scope: string
  attributes: Record<string, unknown>
  resource: Record<string, unknown>
}

export interface OtlpReceiver {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporters add /v1/traces). */
  endpoint: string
  spans: ReceivedSpan[]
  /** Every export request received, however it was encoded (a test of silence counts these). */
  requests: () => number
  /** The headers of each export request, in order (what OTEL_EXPORTER_OTLP_HEADERS adds). */
  headers: IncomingHttpHeaders[]
  /** Resolves with the first span (already received or still to come) that matches. */
  waitForSpan(match: (span: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan>
  close(): Promise<void>
}

interface AnyValue {
  stringValue?: string
  boolValue?: boolean
  intValue?: number | string
  doubleValue?: number
  arrayValue?: { values?: AnyValue[] }
}
type KeyValues = { key: string; value: AnyValue }[] | undefined

const plain = (value: AnyValue): unknown =>
  value.stringValue ??
  value.boolValue ??
  (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
  value.doubleValue ??
  value.arrayValue?.values?.map(plain)

const attributesOf = (list: KeyValues) =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]))

/** The spans of an OTLP/HTTP JSON ExportTraceServiceRequest, flattened. */
export function decodeOtlpJson(body: string): ReceivedSpan[] {
  const request = JSON.parse(body) as {
    resourceSpans?: {
      resource?: { attributes?: KeyValues }
      scopeSpans?: {
        scope?: { name?: string }
        spans?: {
          traceId: string
          spanId: string
          parentSpanId?: string
          name: string
          kind?: number
          attributes?: KeyValues
        }[]
      }[]
    }[]
  }
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const resource = attributesOf(resourceSpans.resource?.attributes)
    return (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
      (scopeSpans.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId || undefined,
        name: span.name,
        kind: span.kind ?? 0,
        service: String(resource['service.name'] ?? ''),
        scope: scopeSpans.scope?.name ?? '',
        attributes: attributesOf(span.attributes),
        resource,
      })),
    )
  })
}

/**
 * A loopback OTLP/HTTP receiver (the collector's traces endpoint, JSON encoding, as the
 * services export): tests point OTEL_EXPORTER_OTLP_ENDPOINT at it and read the spans that
 * really left each process. Anything else (protobuf, another path) is counted and refused
 * with a reason, so a misconfigured exporter fails the test loudly.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received = createCollector<ReceivedSpan>()
  let requests = 0
  const headers: IncomingHttpHeaders[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      requests++
      headers.push(req.headers)
      const raw = Buffer.concat(chunks)
      const type = req.headers['content-type'] ?? ''
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !type.includes('json')) {
        res
          .writeHead(415, { 'content-type': 'text/plain' })
          .end('this receiver takes OTLP/HTTP JSON traces at /v1/traces')
        return
      }
      try {
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
        for (const span of decodeOtlpJson(body.toString('utf8'))) received.push(span)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end((error as Error).message)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans: received.items,
    requests: () => requests,
    headers,
    waitForSpan: (match, timeoutMs = 15_000) => received.waitFor(match, timeoutMs, 'span'),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
