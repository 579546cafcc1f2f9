import { startTracing } from './tracing.ts'

/**
 * Modules the instrumentations patch. The apps import them as ES modules, which Node's
 * CommonJS hooks never see: import-in-the-middle's loader hook wraps these, and only these,
 * so the rest of the module graph loads untouched.
 */
const PATCHED_MODULES = ['http', 'https', 'node:http', 'node:https', 'pg', 'pg-pool', 'ioredis']

/**
 * Tracing for the Node services (api, worker): what their `--import ./src/tracing.ts`
 * calls, before the app's modules load. Loads nothing beyond tracing.ts unless tracing is
 * wanted.
 */
export function startServiceTracing(
  service: 'api' | 'worker',
  source: Record<string, string | undefined> = process.env,
): Promise<boolean> {
  return startTracing(
    {
      service,
      instrumentations: async ({ tracerProvider, settings }) => {
        // In-thread (module.registerHooks, Node 24): no loader thread, no message channel.
        const { register } = await import('import-in-the-middle/register-hooks.mjs')
        register({ include: PATCHED_MODULES })
        return (await import('./node-instrumentations.ts')).nodeInstrumentations(service, {
          tracerProvider,
          enabled: settings.OTEL_NODE_ENABLED_INSTRUMENTATIONS,
          disabled: settings.OTEL_NODE_DISABLED_INSTRUMENTATIONS,
          untracedUrls: settings.SENTRY_DSN ? [settings.SENTRY_DSN] : [],
        })
      },
      sentryOtlpEndpoint: async (dsn) => (await import('@sentry/node')).getOtlpTracesEndpoint(dsn),
    },
    source,
  )
}
