import { CSPProvider } from '@base-ui/react/csp-provider'
import type { Metadata, Viewport } from 'next'
import { headers } from 'next/headers'
import type { ReactNode } from 'react'
import { FocusOnNavigate } from '@/components/shell/focus-on-navigate.tsx'
import { loadWebEnv } from '@/lib/env.ts'
import { browserTelemetryConfig } from '@/lib/server/browser-telemetry.ts'
import { serializeTelemetryConfig, TELEMETRY_CONFIG_ELEMENT_ID } from '@/lib/telemetry-config.ts'
import './globals.css'

export const metadata: Metadata = {
  title: { default: 'Groundwork', template: '%s · Groundwork' },
  description: 'The production-grade SaaS starter.',
}

export const viewport: Viewport = {
  colorScheme: 'light dark',
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#fbfbf9' },
    { media: '(prefers-color-scheme: dark)', color: '#17181c' },
  ],
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  // The nonce proxy.ts put in the CSP: Base UI's inline <style> and <script> need it.
  const nonce = (await headers()).get('x-nonce') ?? undefined
  // Where browsers report, as this server is configured now (ADR 034); read after
  // headers(), so no page is rendered at build time with the build machine's values.
  const telemetry = browserTelemetryConfig(loadWebEnv())
  return (
    <html lang="en">
      <body className="min-h-dvh">
        {telemetry ? (
          <script
            type="application/json"
            id={TELEMETRY_CONFIG_ELEMENT_ID}
            // Never run, but like every inline script of the page it carries the nonce.
            nonce={nonce}
            // biome-ignore lint/security/noDangerouslySetInnerHtml: data, never run (type application/json), escaped by serializeTelemetryConfig so no value can close the element
            dangerouslySetInnerHTML={{ __html: serializeTelemetryConfig(telemetry) }}
          />
        ) : null}
        <CSPProvider nonce={nonce}>
          <FocusOnNavigate />
          {children}
        </CSPProvider>
      </body>
    </html>
  )
}
