import { listQuery } from '@repo/schemas'
import type { Metadata } from 'next'
import Link from 'next/link'
import { EmptyState } from '@/components/lists/empty-state.tsx'
import { Pagination } from '@/components/lists/pagination.tsx'
import { PageNotice } from '@/components/shell/page-notice.tsx'
import { Alert } from '@/components/ui/alert.tsx'
import { Card } from '@/components/ui/card.tsx'
import { listStateFrom } from '@/lib/list-query.ts'
import { callApi } from '@/lib/server/api.ts'
import { DeadLetterBulk, QueueDashboardButton } from './dead-letter-buttons.tsx'

export const metadata: Metadata = { title: 'Dead letters' }

type Search = Promise<Record<string, string | string[] | undefined>>

/** For platform operators: jobs that failed every attempt, to inspect, replay or purge. */
export default async function DeadLettersPage({ searchParams }: { searchParams: Search }) {
  const search = await searchParams
  const state = listStateFrom(listQuery, search)
  const page = await callApi((api) =>
    api.GET('/v1/admin/dead-letters', { params: { query: state } }),
  )
  if (!page.ok)
    return (
      <PageNotice title="Dead letters">
        {page.problem.status === 403
          ? 'This page is for platform operators.'
          : page.problem.message}
      </PageNotice>
    )
  return (
    <div className="grid gap-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Dead letters</h1>
        <QueueDashboardButton />
      </div>
      {search.replayed ? (
        <Alert role="status" variant="success">
          Replayed: the job is queued again.
        </Alert>
      ) : null}
      {search.purged ? (
        <Alert role="status" variant="success">
          Purged.
        </Alert>
      ) : null}
      {page.data.data.length === 0 ? (
        <EmptyState
          title={<>No dead letters. Every job either succeeded or is still being retried.</>}
        />
      ) : (
        <>
          <DeadLetterBulk />
          <Card>
            <ul className="divide-y" aria-label="Dead letters">
              {page.data.data.map((letter) => (
                <li key={letter.id} className="grid gap-1 px-4 py-3">
                  <Link
                    href={`/admin/dead-letters/${encodeURIComponent(letter.id)}`}
                    className="font-mono text-sm font-medium hover:underline"
                  >
                    {letter.queue} / {letter.name}
                  </Link>
                  <p className="truncate text-sm text-destructive">{letter.error}</p>
                  <p className="text-xs text-muted-foreground">
                    Failed {letter.failedAt} after {letter.attemptsMade} attempts
                  </p>
                </li>
              ))}
            </ul>
          </Card>
        </>
      )}
      <Pagination path="/admin/dead-letters" state={state} nextCursor={page.data.nextCursor} />
    </div>
  )
}
