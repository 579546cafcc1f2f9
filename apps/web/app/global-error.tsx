'use client'

import { useEffect } from 'react'
import { reportError } from '@/lib/telemetry-client.ts'

/** When the root layout itself fails: plain HTML, no app styles to rely on. */
export default function GlobalError({ error }: { error: Error & { digest?: string } }) {
  useEffect(() => {
    reportError(error)
  }, [error])
  return (
    <html lang="en">
      <body
        style={{ fontFamily: 'system-ui, sans-serif', padding: '4rem 1rem', textAlign: 'center' }}
      >
        <h1>Something went wrong</h1>
        <p>
          Reload the page to try again{error.digest ? `; quote ${error.digest} to support` : ''}.
        </p>
      </body>
    </html>
  )
}
