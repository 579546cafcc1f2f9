import './thread-pool.ts'
import './instrument.ts'
import { loadEnvOrExit } from '@repo/config'
import { flushSentry } from '@repo/observability'
import { stopTracing } from '@repo/observability/tracing'
import closeWithGrace from 'close-with-grace'
import { buildServer } from './build-server.ts'
import { apiEnvSchema } from './env.ts'

const env = loadEnvOrExit(apiEnvSchema)
const server = await buildServer(env)

// On SIGTERM/SIGINT: report not-ready, stop accepting, let in-flight requests finish,
// close pools, flush telemetry. A second signal or the timeout forces the exit.
closeWithGrace(
  { delay: env.SHUTDOWN_DRAIN_DELAY_MS + env.SHUTDOWN_TIMEOUT_MS },
  async ({ signal, err }) => {
    if (err) server.log.error({ err }, 'shutting down after a fatal error')
    else server.log.info({ signal }, 'shutting down')
    server.draining = true
    if (env.SHUTDOWN_DRAIN_DELAY_MS > 0)
      await new Promise((resolve) => setTimeout(resolve, env.SHUTDOWN_DRAIN_DELAY_MS))
    await server.close()
    await Promise.all([flushSentry(), stopTracing()])
  },
)

try {
  await server.listen({ host: env.API_HOST, port: env.API_PORT })
} catch (err) {
  server.log.fatal({ err }, 'could not start the API')
  process.exit(1)
}
