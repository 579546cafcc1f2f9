import { isSpanContextValid, trace } from '@opentelemetry/api'
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino'
import { currentLogContext } from './log-context.ts'
import { type RedactOptions, redactValue, scrubString } from './redact.ts'

export type { DestinationStream, Logger } from 'pino'

export interface LoggerConfig {
  /** Service name stamped on every line (api, worker, web, scripts). */
  service: string
  level: LoggerOptions['level']
  /** Pretty, colourised output for local development; JSON otherwise. */
  pretty: boolean
  version?: string
  /** The deployment's name (production, staging...), stamped on every line. */
  environment?: string
  /** Keep email addresses in log lines (LOG_EMAILS); off: each becomes `[email]`. */
  allowEmails?: boolean
  /** Where JSON lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream
}

/**
 * What every line gets from where it is written: the request/job context (request id,
 * organization, user) and the active OpenTelemetry span's trace and span ids. A mixin,
 * not bindings, so a line written by shared code (core functions, the outbox relay, a
 * plugin) carries them too without being handed a logger (ADR 031).
 */
function contextFields(): Record<string, string> {
  const context = currentLogContext()
  const span = trace.getActiveSpan()?.spanContext()
  const spanValid = span !== undefined && isSpanContextValid(span)
  if (!context && !spanValid) return {}
  const fields: Record<string, string> = {}
  if (context?.requestId) fields.requestId = context.requestId
  if (context?.organizationId) fields.organizationId = context.organizationId
  if (context?.userId) fields.userId = context.userId
  if (spanValid) {
    fields.traceId = span.traceId
    fields.spanId = span.spanId
  }
  return fields
}

export function createLogger(config: LoggerConfig): Logger {
  const redaction: RedactOptions = { allowEmails: config.allowEmails ?? false }
  const redact = (value: Record<string, unknown>) =>
    redactValue(value, redaction) as Record<string, unknown>
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    base: {
      service: config.service,
      ...(config.version ? { version: config.version } : {}),
      ...(config.environment ? { environment: config.environment } : {}),
    },
    mixin: contextFields,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      // Every record, at any depth (errors included), and the root's base fields.
      log: redact,
      bindings: redact,
    },
    // Errors arrive already serialized and redacted by formatters.log; pino's own err
    // serializer would rename their type to Object.
    serializers: { err: (value: unknown) => value },
    hooks: {
      // The message and its interpolated values bypass formatters.log: scrub them here.
      logMethod(args, method) {
        let list = args as unknown[]
        const [first, ...rest] = list
        // logger.error(err): the error under `err` (redacted like any field), its message
        // as the line's message.
        if (first instanceof Error)
          list = [
            { err: first },
            ...(typeof rest[0] === 'string' ? rest : [first.message, ...rest]),
          ]
        const scrubbed = list.map((arg, index) =>
          typeof arg === 'string'
            ? scrubString(arg, redaction)
            : index > 0 && arg !== null && typeof arg === 'object'
              ? redactValue(arg, redaction)
              : arg,
        )
        return method.apply(this, scrubbed as Parameters<typeof method>)
      },
    },
    ...(config.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: {
              colorize: true,
              translateTime: 'HH:MM:ss.l',
              ignore: 'pid,hostname,service,version,environment',
            },
          },
        }
      : {}),
  }
  const logger =
    config.destination && !config.pretty ? pino(options, config.destination) : pino(options)
  // pino applies formatters.bindings to the root only: children (Fastify's per-request
  // loggers, a job's logger) inherit this wrapper, which redacts what they bind.
  const child = logger.child
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redact(bindings), childOptions)
  } as Logger['child']
  return logger
}
