export { type Analytics, type AnalyticsEvent, createAnalytics } from './analytics.ts'
export { createLogger, type Logger, type LoggerConfig, redactPaths } from './logger.ts'
export {
  flushSentry,
  initSentry,
  Sentry,
  type SentryConfig,
  sentryConfigFromEnv,
} from './sentry.ts'
