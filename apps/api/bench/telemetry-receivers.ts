// The loopback backends of `BENCH_INSTRUMENTATION=1 pnpm bench:api`: an OTLP/HTTP receiver
// (the collector: every span the API exports is received and decoded) and the telemetry
// sink (Sentry's and PostHog's ingestion). Started by api.ts in a child process of its own,
// so decoding span batches never blocks the event loop that runs autocannon and times the
// requests; it costs CPU on the same machine all the same, which is why it reports its
// own CPU time. Reports its addresses over IPC, then answers each `stats` message.
import { startOtlpReceiver } from '../../../packages/testing/src/otlp-receiver.ts'
import { sentryItems, startTelemetrySink } from '../../../packages/testing/src/telemetry-sink.ts'

export interface ReceiverStats {
  /** Spans received, all kinds. */
  spans: number
  /** Server spans of the API (SpanKind 2): one per traced request. */
  serverSpans: number
  /** Spans by instrumentation scope (the library that made them). */
  byScope: Record<string, number>
  /** Spans by instrumentation scope and span name ("scope: name"). */
  byName: Record<string, number>
  /** Export requests the receiver answered. */
  exports: number
  /** Sentry envelope items received, by type (event, session, sessions, ...). */
  sentryItems: Record<string, number>
  /** PostHog events received, by name. */
  posthogEvents: Record<string, number>
  /** This process' CPU time so far, in seconds (user + system). */
  cpuSeconds: number
}

const receiver = await startOtlpReceiver()
const sink = await startTelemetrySink()

// Every span is counted, then let go: holding a run's spans (hundreds of thousands) would
// make this process' memory and garbage collection the story.
let spans = 0
let serverSpans = 0
const byScope: Record<string, number> = {}
const byName: Record<string, number> = {}
function count() {
  for (const span of receiver.spans.splice(0)) {
    spans++
    if (span.kind === 2 && span.service === 'api') serverSpans++
    byScope[span.scope] = (byScope[span.scope] ?? 0) + 1
    // Names that hold a route or a statement would be one entry per request: their first word.
    const name = `${span.scope}: ${span.name.split(' ')[0]}`
    byName[name] = (byName[name] ?? 0) + 1
  }
}
setInterval(count, 200)

function posthogEvents() {
  const counts: Record<string, number> = {}
  for (const request of sink.requests) {
    if (request.path.startsWith('/api/')) continue
    try {
      const body = JSON.parse(request.body) as { batch?: { event?: string }[] }
      for (const item of body.batch ?? []) {
        const name = item.event ?? '?'
        counts[name] = (counts[name] ?? 0) + 1
      }
    } catch {
      // Not a batch (a flags request): not an event.
    }
  }
  return counts
}

function stats(): ReceiverStats {
  count()
  const items: Record<string, number> = {}
  for (const type of ['event', 'session', 'sessions', 'transaction', 'client_report'])
    for (const _ of sentryItems(sink.requests, type)) items[type] = (items[type] ?? 0) + 1
  const cpu = process.cpuUsage()
  return {
    spans,
    serverSpans,
    byScope,
    byName,
    exports: receiver.requests(),
    sentryItems: items,
    posthogEvents: posthogEvents(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }
}

process.on('message', (message) => {
  if (message === 'stats') process.send?.({ stats: stats() })
})
process.once('disconnect', () => {
  void Promise.all([receiver.close(), sink.close()]).then(() => process.exit(0))
})
process.send?.({
  otlpEndpoint: receiver.endpoint,
  sentryDsn: sink.sentryDsn,
  posthogHost: sink.posthogHost,
})
