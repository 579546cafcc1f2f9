import { deadLetterParams } from '@repo/schemas'
import type { Metadata } from 'next'
import Link from 'next/link'
import { notFound } from 'next/navigation'
import { PageNotice } from '@/components/shell/page-notice.tsx'
import { Card, CardContent, CardHeader } from '@/components/ui/card.tsx'
import { JsonCard } from '@/components/ui/code-block.tsx'
import { callApi } from '@/lib/server/api.ts'
import { DeadLetterActions } from '../dead-letter-buttons.tsx'

export const metadata: Metadata = { title: 'Dead letter' }

/** The id from the URL as the API accepts it, or undefined (a bad escape included). */
function deadLetterId(raw: string): string | undefined {
  let id: string
  try {
    id = decodeURIComponent(raw)
  } catch {
    return undefined
  }
  const parsed = deadLetterParams.safeParse({ id })
  return parsed.success ? parsed.data.id : undefined
}

export default async function DeadLetterPage({ params }: { params: Promise<{ id: string }> }) {
  const id = deadLetterId((await params).id)
  if (!id) notFound()
  const letter = await callApi((api) =>
    api.GET('/v1/admin/dead-letters/{id}', { params: { path: { id } } }),
  )
  if (!letter.ok) {
    if (letter.problem.status === 404 || letter.problem.status === 400) notFound()
    return (
      <PageNotice title="Dead letter">
        {letter.problem.status === 403
          ? 'This page is for platform operators.'
          : letter.problem.message}
      </PageNotice>
    )
  }
  const data = letter.data
  return (
    <div className="grid gap-6">
      <div className="grid gap-1">
        <p className="text-sm text-muted-foreground">
          <Link href="/admin/dead-letters" className="hover:underline">
            Dead letters
          </Link>
        </p>
        <h1 className="font-mono text-xl font-semibold">
          {data.queue} / {data.name}
        </h1>
        <p className="text-sm text-muted-foreground">
          Job {data.jobId} · first queued {data.firstEnqueuedAt} · failed {data.failedAt}
        </p>
      </div>
      <DeadLetterActions id={data.id} />
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Error</h2>
        </CardHeader>
        <CardContent className="grid gap-3">
          <p className="text-destructive">{data.error}</p>
          {data.attempts.map((attempt) => (
            <details key={attempt.attempt} className="rounded border p-2">
              <summary className="cursor-pointer text-sm">Attempt {attempt.attempt}</summary>
              <pre className="overflow-x-auto text-xs">{attempt.stack}</pre>
            </details>
          ))}
        </CardContent>
      </Card>
      <JsonCard title="Payload" value={data.data} />
    </div>
  )
}
