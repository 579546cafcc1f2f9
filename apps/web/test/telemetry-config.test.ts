import { parseEnv } from '@repo/config'
import { describe, expect, it } from 'vitest'
import { webEnvSchema } from '../lib/env.ts'
import { contentSecurityPolicy } from '../lib/security-headers.ts'
import { browserTelemetryConfig } from '../lib/server/browser-telemetry.ts'
import { parseTelemetryConfig, serializeTelemetryConfig } from '../lib/telemetry-config.ts'

// The browser's telemetry settings are the web server's to give (ADR 034): read from its
// environment when it runs, rendered into each page, read back by the browser. The browser
// half, end to end, is e2e/browser-telemetry.test.ts.
const env = (values: Record<string, string>) =>
  parseEnv(webEnvSchema, { NODE_ENV: 'test', ...values })

describe("the browser's telemetry settings", () => {
  it('are nothing at all when the server configured no browser key', () => {
    // The server's own Sentry and PostHog are not the browser's: they stay on the server.
    expect(
      browserTelemetryConfig(
        env({ SENTRY_DSN: 'https://key@o1.ingest.de.sentry.io/2', POSTHOG_KEY: 'phc_server' }),
      ),
    ).toBeUndefined()
  })

  it("carry Sentry with the server's environment and release, and only what is set", () => {
    const config = browserTelemetryConfig(
      env({
        BROWSER_SENTRY_DSN: 'https://public@o1.ingest.de.sentry.io/3',
        SENTRY_ENVIRONMENT: 'production',
        APP_VERSION: '2.4.0',
        GIT_COMMIT: 'abc1234',
      }),
    )
    expect(config).toEqual({
      sentry: {
        dsn: 'https://public@o1.ingest.de.sentry.io/3',
        environment: 'production',
        release: '2.4.0+abc1234',
      },
    })
    // Without SENTRY_ENVIRONMENT, the environment is NODE_ENV, as on the server.
    expect(
      browserTelemetryConfig(env({ BROWSER_SENTRY_DSN: 'https://public@sentry.example.com/3' }))
        ?.sentry?.environment,
    ).toBe('test')
  })

  it("carry PostHog's key with its host, the EU cloud unless configured", () => {
    expect(browserTelemetryConfig(env({ BROWSER_POSTHOG_KEY: 'phc_browser' }))).toEqual({
      posthog: { key: 'phc_browser', host: 'https://eu.i.posthog.com' },
    })
    const both = browserTelemetryConfig(
      env({
        BROWSER_POSTHOG_KEY: 'phc_browser',
        BROWSER_POSTHOG_HOST: 'https://us.i.posthog.com',
        BROWSER_SENTRY_DSN: 'https://public@sentry.example.com/3',
        BROWSER_SENTRY_TRACES_SAMPLE_RATE: '0.25',
      }),
    )
    expect(both?.posthog?.host).toBe('https://us.i.posthog.com')
    expect(both?.sentry?.tracesSampleRate).toBe(0.25)
  })

  it('refuse what is not a URL or a rate, naming the variable', () => {
    expect(() => env({ BROWSER_SENTRY_DSN: 'not a url' })).toThrow(/BROWSER_SENTRY_DSN/)
    expect(() => env({ BROWSER_POSTHOG_HOST: 'ftp://posthog.example.com' })).toThrow(
      /BROWSER_POSTHOG_HOST/,
    )
    expect(() => env({ BROWSER_SENTRY_TRACES_SAMPLE_RATE: '2' })).toThrow(
      /BROWSER_SENTRY_TRACES_SAMPLE_RATE/,
    )
  })

  it('cannot close their element or open a comment, and read back unchanged', () => {
    const config = {
      sentry: { dsn: 'https://k@s.example.com/1', environment: '</script><!--', release: '1+x' },
      posthog: { key: 'phc_<b>', host: 'https://eu.i.posthog.com' },
    }
    const text = serializeTelemetryConfig(config)
    expect(text).not.toContain('<')
    expect(parseTelemetryConfig(text)).toEqual(config)
  })

  it('are read back without the parts that are malformed', () => {
    expect(parseTelemetryConfig(undefined)).toEqual({})
    expect(parseTelemetryConfig('{not json')).toEqual({})
    expect(parseTelemetryConfig('[1]')).toEqual({})
    expect(
      parseTelemetryConfig(
        JSON.stringify({
          sentry: { dsn: 'https://k@s.example.com/1', environment: 'production' },
          posthog: { key: 'phc_x', host: 'https://eu.i.posthog.com' },
        }),
      ),
    ).toEqual({ posthog: { key: 'phc_x', host: 'https://eu.i.posthog.com' } })
    expect(
      parseTelemetryConfig(
        JSON.stringify({
          sentry: {
            dsn: 'https://k@s.example.com/1',
            environment: 'e',
            release: 'r',
            tracesSampleRate: 7,
          },
        }),
      ).sentry,
    ).toEqual({ dsn: 'https://k@s.example.com/1', environment: 'e', release: 'r' })
  })

  it("open the CSP's connect-src to their hosts only", () => {
    const policy = (telemetry?: ReturnType<typeof browserTelemetryConfig>) =>
      contentSecurityPolicy('n0nce', { dev: false, https: true, telemetry })
        .split('; ')
        .find((directive) => directive.startsWith('connect-src'))
    expect(policy()).toBe("connect-src 'self'")
    expect(
      policy({
        sentry: { dsn: 'https://public@o1.ingest.de.sentry.io/3', environment: 'p', release: 'r' },
        posthog: { key: 'phc_x', host: 'https://eu.i.posthog.com' },
      }),
    ).toBe(
      "connect-src 'self' https://o1.ingest.de.sentry.io https://eu.i.posthog.com https://eu-assets.i.posthog.com",
    )
  })
})
