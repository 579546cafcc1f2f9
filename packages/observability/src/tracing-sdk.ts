import { ROOT_CONTEXT } from '@opentelemetry/api'
import { suppressTracing } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { NodeSDK } from '@opentelemetry/sdk-node'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace'
import {
  ATTR_DEPLOYMENT_ENVIRONMENT_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions'
import { BullMQOtel } from 'bullmq-otel'
import { ProbeDroppingSampler, RedactingSpanExporter } from './span-redaction.ts'
import type { StartedTracing, TracingOptions, TracingSettings } from './tracing.ts'
import { FollowingTracerProvider } from './unsampled-children.ts'

// Loaded only when tracing is on (tracing.ts decides): everything here costs start-up time.

async function spanProcessors(
  options: TracingOptions,
  settings: TracingSettings,
): Promise<SpanProcessor[]> {
  const processors: SpanProcessor[] = []
  // Every destination gets spans without query strings or email addresses (ADR 032).
  const batch = (exporter: SpanExporter) =>
    new BatchSpanProcessor({ exporter: new RedactingSpanExporter(exporter) })
  if (settings.OTEL_EXPORTER_OTLP_ENDPOINT) {
    // The exporter reads OTEL_EXPORTER_OTLP_HEADERS itself; JSON is what every OTLP/HTTP
    // receiver accepts.
    const base = settings.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')
    processors.push(batch(new OTLPTraceExporter({ url: `${base}/v1/traces` })))
  }
  // Sentry's tracing is these same spans, sent to its OTLP endpoint: one trace, one
  // sampler, wherever it is viewed.
  const sentry =
    settings.SENTRY_DSN && settings.SENTRY_TRACES_SAMPLE_RATE > 0
      ? await options.sentryOtlpEndpoint(settings.SENTRY_DSN)
      : undefined
  if (sentry) processors.push(batch(new OTLPTraceExporter(sentry)))
  return processors
}

/**
 * OTEL_TRACES_SAMPLER as the SDK reads it (its reader is not exported); every trace when
 * it is unset or unknown.
 */
export function samplerFromEnv(source: Record<string, string | undefined>): Sampler {
  // Blank or out of [0, 1]: every trace, as the SDK does.
  const arg = source.OTEL_TRACES_SAMPLER_ARG?.trim() ? Number(source.OTEL_TRACES_SAMPLER_ARG) : 1
  const ratio = () => new TraceIdRatioBasedSampler(arg >= 0 && arg <= 1 ? arg : 1)
  switch (source.OTEL_TRACES_SAMPLER?.trim()) {
    case 'always_on':
      return new AlwaysOnSampler()
    case 'always_off':
      return new AlwaysOffSampler()
    case 'traceidratio':
      return ratio()
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() })
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() })
  }
}

/**
 * With a collector, sampling follows OTEL_TRACES_SAMPLER (every trace by default); with
 * Sentry as the only destination, SENTRY_TRACES_SAMPLE_RATE is the ratio. Either way no
 * trace starts at a probe (/healthz, /readyz) or a scrape (/metrics).
 */
export function samplerFor(
  settings: TracingSettings,
  source: Record<string, string | undefined> = process.env,
): Sampler {
  return new ProbeDroppingSampler(
    settings.OTEL_EXPORTER_OTLP_ENDPOINT
      ? samplerFromEnv(source)
      : new ParentBasedSampler({
          root: new TraceIdRatioBasedSampler(settings.SENTRY_TRACES_SAMPLE_RATE),
        }),
  )
}

/**
 * Whether a sampler leaves every child of an unsampled span unsampled: the parent-based
 * ones and always_off. always_on and traceidratio decide each span alone.
 */
export function childrenFollowParent(sampler: Sampler): boolean {
  const decides = sampler instanceof ProbeDroppingSampler ? sampler.inner : sampler
  return decides instanceof ParentBasedSampler || decides instanceof AlwaysOffSampler
}

/** Starts the Node SDK: W3C trace context, the service's instrumentations, OTLP export. */
export async function startNodeSdk(
  options: TracingOptions,
  settings: TracingSettings,
): Promise<StartedTracing> {
  // A child of an unsampled span costs the instrumentations next to nothing
  // (unsampled-children.ts), while the sampler lets a parent decide for its children.
  const sampler = samplerFor(settings)
  const tracerProvider = childrenFollowParent(sampler) ? new FollowingTracerProvider() : undefined
  const instrumentations = await options.instrumentations({ tracerProvider, settings })
  // Registered here, as NodeSDK would, but with that provider: NodeSDK hands every
  // instrumentation the global one.
  registerInstrumentations({ instrumentations, ...(tracerProvider ? { tracerProvider } : {}) })
  const sdk = new NodeSDK({
    serviceName: settings.OTEL_SERVICE_NAME ?? options.service,
    // OTEL_RESOURCE_ATTRIBUTES, host and process come from the SDK's own detectors.
    resource: resourceFromAttributes({
      [ATTR_SERVICE_VERSION]: settings.APP_VERSION,
      [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: settings.SENTRY_ENVIRONMENT ?? settings.NODE_ENV,
      // The commit, as OpenTelemetry's VCS conventions name it (Sentry's release has it too).
      'vcs.ref.head.revision': settings.GIT_COMMIT,
    }),
    spanProcessors: await spanProcessors(options, settings),
    sampler,
    // Traces only: metrics are Prometheus' (prom-client), logs are pino's.
    metricReaders: [],
    logRecordProcessors: [],
  })
  sdk.start()
  return {
    bullmq: new BullMQOtel({ tracerName: 'bullmq' }),
    untraced: suppressTracing(ROOT_CONTEXT),
    shutdown: () => sdk.shutdown(),
  }
}
