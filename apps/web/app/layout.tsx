import { CSPProvider } from '@base-ui/react/csp-provider'
import type { Metadata, Viewport } from 'next'
import { headers } from 'next/headers'
import type { ReactNode } from 'react'
import { FocusOnNavigate } from '@/components/shell/focus-on-navigate.tsx'
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
  return (
    <html lang="en">
      <body className="min-h-dvh">
        <CSPProvider nonce={nonce}>
          <FocusOnNavigate />
          {children}
        </CSPProvider>
      </body>
    </html>
  )
}
