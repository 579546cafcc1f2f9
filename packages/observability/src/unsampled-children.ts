import {
  type Context,
  context,
  isSpanContextValid,
  type Span,
  type SpanOptions,
  TraceFlags,
  type Tracer,
  type TracerOptions,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'

import { isTracingSuppressed } from '@opentelemetry/core'

// Loaded only when tracing starts (tracing-sdk.ts).

/**
 * The span to hand out instead of a new one, or undefined when the SDK must decide: a
 * parent that is not sampled and records nothing, under a sampler that follows its parent
 * (ParentBasedSampler: a child of an unsampled span is never sampled).
 */
function unsampledParent(options: SpanOptions | undefined, parentContext: Context) {
  if (options?.root || isTracingSuppressed(parentContext)) return undefined
  const parent = trace.getSpan(parentContext)
  if (parent === undefined || parent.isRecording()) return undefined
  const ids = parent.spanContext()
  // An invalid parent is no parent: the SDK starts a trace of its own there.
  if (!isSpanContextValid(ids)) return undefined
  return (ids.traceFlags & TraceFlags.SAMPLED) === 0 ? parent : undefined
}

/**
 * A tracer that gives a child of an unsampled span that same span, non-recording, and
 * leaves every other decision to the SDK's tracer it wraps.
 *
 * Why (ADR 032): the SDK decides a span's fate only after it has made it an id, copied and
 * cleaned its attributes, asked the sampler (which reads the parent's context, twice,
 * through a regex check) and counted it, for every span of every request, the 90% of
 * requests a one-in-ten head sampler drops included; for a child of an unsampled span
 * the answer is known before all of that (OpenTelemetry's specification issue 620 names
 * the problem; no SDK option skips it). What changes for the child: it records nothing
 * either way, and carries the trace id and the unsampled flag on to logs, jobs and
 * outgoing calls as before; the span id those carry is the parent's (for a caller's
 * unsampled request, the caller's) rather than a fresh one that no backend ever receives.
 * A suppressed context and an invalid parent are left to the SDK, which treats them
 * otherwise.
 */
class FollowingTracer implements Tracer {
  private readonly inner: Tracer

  constructor(inner: Tracer) {
    this.inner = inner
  }

  startSpan(name: string, options?: SpanOptions, parentContext = context.active()): Span {
    return (
      unsampledParent(options, parentContext) ?? this.inner.startSpan(name, options, parentContext)
    )
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    parentContext: Context,
    fn: F,
  ): ReturnType<F>
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
  ): ReturnType<F> {
    const fn = rest[rest.length - 1] as F
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined
    const parentContext =
      (rest.length > 2 ? (rest[1] as Context | undefined) : undefined) ?? context.active()
    const span = this.startSpan(name, options, parentContext)
    return context.with(
      trace.setSpan(parentContext, span),
      fn as (span: Span) => ReturnType<F>,
      undefined,
      span,
    )
  }
}

/**
 * The tracer provider given to the instrumentations while the sampler follows parents:
 * each tracer wraps the global provider's (the SDK's once it has started), so it can be
 * handed out before the SDK starts.
 */
export class FollowingTracerProvider implements TracerProvider {
  private readonly tracers = new Map<string, Tracer>()

  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    const key = `${name}@${version ?? ''}:${options?.schemaUrl ?? ''}`
    let tracer = this.tracers.get(key)
    if (tracer === undefined) {
      tracer = new FollowingTracer(trace.getTracerProvider().getTracer(name, version, options))
      this.tracers.set(key, tracer)
    }
    return tracer
  }
}
