export {
  type Analytics,
  type AnalyticsConfig,
  type AnalyticsEvent,
  analyticsConfigFromEnv,
  createAnalytics,
  DEFAULT_FLAG_TIMEOUT_MS,
  type FlagCheck,
} from './analytics.ts'
export {
  ANONYMOUS_DISTINCT_ID,
  FEATURE_FLAGS,
  type FeatureFlag,
  isFlagEnabled,
} from './flags.ts'
export {
  addToLogContext,
  currentLogContext,
  type LogContext,
  runWithLogContext,
} from './log-context.ts'
export { createLogger, type DestinationStream, type Logger, type LoggerConfig } from './logger.ts'
export {
  Counter,
  createMetrics,
  type DependencyState,
  Gauge,
  Histogram,
  type Metrics,
  type MetricsConfig,
  type PoolLike,
  Registry,
} from './metrics.ts'
export { type MetricsServer, startMetricsServer } from './metrics-server.ts'
export { isSensitiveKey, redactValue, scrubString } from './redact.ts'
export { acceptRequestId, isValidRequestId, REQUEST_ID_HEADER } from './request-id.ts'
export { EMAIL_PLACEHOLDER, scrubEmails, scrubPersonalProperties } from './scrub.ts'
export {
  activeTraceId,
  captureError,
  type ErrorContext,
  flushSentry,
  initSentry,
  Sentry,
  type SentryConfig,
  scrubEvent,
  sentryConfigFromEnv,
} from './sentry.ts'
