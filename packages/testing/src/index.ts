import { afterAll, beforeAll } from 'vitest'
import { createTestDatabase, type TestDatabase } from './database.ts'
import { createTestRedis, type TestRedis } from './redis.ts'

export { TEST_APP_LOGIN, TEST_WORKER_LOGIN, type TestServices } from './context.ts'
export { createTestDatabase, type TestDatabase } from './database.ts'
export {
  type FakeOAuthProvider,
  type FakeOAuthUser,
  fakeOAuthEnv,
  startFakeOAuthProvider,
} from './fake-oauth-provider.ts'
export { type GatedPort, startGatedPort } from './gated-port.ts'
export { installedPackage } from './installed.ts'
export { captureLogs, POISON, poisonedRecord, poisonIn } from './log-capture.ts'
export {
  type Exposition,
  familySamples,
  type MetricContract,
  metricsContract,
  parseExposition,
  type Sample,
  scrapeMetrics,
  seriesOf,
  UNBOUNDED_LABEL_VALUE,
} from './metrics.ts'
export {
  decodeOtlpJson,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from './otlp-receiver.ts'
export { STACK_FRAME } from './output.ts'
export { createTestRedis, type TestRedis } from './redis.ts'
export { type ReceivedEmail, type SmtpSink, startSmtpSink } from './smtp-sink.ts'
export {
  type SentryEnvelopeItem,
  type SinkRequest,
  sentryItems,
  startTelemetrySink,
  type TelemetrySink,
} from './telemetry-sink.ts'
export { registerTestTracer } from './tracing.ts'
export { answers, waitUntil } from './wait.ts'

export interface IsolatedServices {
  database: TestDatabase
  redis: TestRedis
}

/**
 * Call at the top of a test file: before its tests run it gets a fresh database and Redis
 * namespace of its own; after them both are dropped. Read the result inside tests/hooks.
 */
export function useIsolatedServices(): () => IsolatedServices {
  let services: IsolatedServices | undefined
  beforeAll(async () => {
    const [database, redis] = await Promise.all([createTestDatabase(), createTestRedis()])
    services = { database, redis }
  })
  afterAll(async () => {
    await Promise.all([services?.database.drop(), services?.redis.release()])
  })
  return () => {
    if (!services)
      throw new Error('useIsolatedServices() is read inside tests or hooks, not at import time')
    return services
  }
}
