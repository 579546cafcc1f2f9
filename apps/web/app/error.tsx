'use client'

import { useEffect } from 'react'
import { Button } from '@/components/ui/button.tsx'
import { reportError } from '@/lib/telemetry-client.ts'

/**
 * A page that failed. The message is generic (a server error's text never reaches the
 * browser); the digest lets support find the server's log line.
 */
export default function ErrorPage({
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
    <main className="mx-auto flex min-h-[60dvh] max-w-md flex-col items-center justify-center gap-4 px-4 text-center">
      <p className="text-sm font-semibold text-destructive">Error</p>
      <h1 className="text-2xl font-semibold">Something went wrong</h1>
      <p className="text-muted-foreground">
        This page could not be shown. Try again; if it keeps happening, contact support
        {error.digest ? ` and quote ${error.digest}` : ''}.
      </p>
      <Button onClick={retry}>Try again</Button>
    </main>
  )
}
