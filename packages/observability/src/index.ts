export { type Analytics, type AnalyticsEvent, createAnalytics } from './analytics.ts'
export {
  addToLogContext,
  currentLogContext,
  type LogContext,
  runWithLogContext,
} from './log-context.ts'
export { createLogger, type DestinationStream, type Logger, type LoggerConfig } from './logger.ts'
export { isSensitiveKey, redactValue, scrubString } from './redact.ts'
export { acceptRequestId, isValidRequestId, REQUEST_ID_HEADER } from './request-id.ts'
export {
  flushSentry,
  initSentry,
  Sentry,
  type SentryConfig,
  sentryConfigFromEnv,
} from './sentry.ts'
