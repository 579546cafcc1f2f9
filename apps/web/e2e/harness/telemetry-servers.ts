import { type SinkRequest, startTelemetrySink, type TelemetrySink } from '@repo/testing'
import { Cleanup } from './cleanup.ts'
import { startWebServer, type WebServer } from './web-server.ts'

/**
 * The production web servers and loopback telemetry sinks a test file starts, all stopped
 * by `stopAll()` (its afterAll) whatever else fails; `cleanup` takes anything else it
 * starts.
 */
export function telemetryServers() {
  const cleanup = new Cleanup()
  return {
    cleanup,
    /** The web server with `env`. No API unless `env` names one: API_URL is a closed port. */
    async web(env: Record<string, string>): Promise<WebServer> {
      const server = await startWebServer({ env: { API_URL: 'http://127.0.0.1:9', ...env } })
      cleanup.defer(() => server.stop())
      return server
    },
    /** A sink for Sentry and PostHog; `respond` answers requests the default way does not. */
    async sink(respond?: (request: SinkRequest) => unknown): Promise<TelemetrySink> {
      const sink = await startTelemetrySink(respond ? { respond } : {})
      cleanup.defer(() => sink.close())
      return sink
    },
    stopAll: () => cleanup.run(),
  }
}
