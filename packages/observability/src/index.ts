export { type Analytics, type AnalyticsEvent, createAnalytics } from './analytics.ts'
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
export {
  flushSentry,
  initSentry,
  Sentry,
  type SentryConfig,
  sentryConfigFromEnv,
} from './sentry.ts'
