'use client'

import { useEffect } from 'react'
import { reportError } from '@/lib/telemetry-client.ts'

/** When the root layout itself fails: plain HTML, no app styles to rely on. */
export default function GlobalError({
  error,
  retry,
}: {
  error: Error & { digest?: string }
  retry: () => void
}) {
  useEffect(() => {
    // A server error (with a digest) reached Sentry on the server already.
    if (!error.digest) reportError(error)
  }, [error])
  return (
    <html lang="en">
      <body
        style={{ fontFamily: 'system-ui, sans-serif', padding: '4rem 1rem', textAlign: 'center' }}
      >
        <h1>Something went wrong</h1>
        <p>
          Try again; if it keeps happening, contact support
          {error.digest ? ` and quote ${error.digest}` : ''}.
        </p>
        <button type="button" onClick={retry}>
          Try again
        </button>
      </body>
    </html>
  )
}
