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
export { createLogger, type Logger, type LoggerConfig, redactPaths } from './logger.ts'
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
