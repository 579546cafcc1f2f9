import type { Metadata } from 'next'
import Link from 'next/link'
import { PageNotice } from '@/components/shell/page-notice.tsx'
import { Badge } from '@/components/ui/badge.tsx'
import { Card, CardContent, CardHeader } from '@/components/ui/card.tsx'
import { JsonCard } from '@/components/ui/code-block.tsx'
import { load, organization } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'
import { RedeliverButton } from './redeliver-button.tsx'

export const metadata: Metadata = { title: 'Delivery' }

const when = new Intl.DateTimeFormat('en', {
  dateStyle: 'medium',
  timeStyle: 'medium',
  timeZone: 'UTC',
})

export default async function DeliveryPage({
  params,
}: {
  params: Promise<{ orgId: string; endpointId: string; deliveryId: string }>
}) {
  const raw = await params
  const orgId = idOrNotFound(raw.orgId)
  const endpointId = idOrNotFound(raw.endpointId)
  const deliveryId = idOrNotFound(raw.deliveryId)
  // The API refuses members deliveries; asking would show them an error instead of why.
  if ((await organization(orgId)).role === 'member')
    return (
      <PageNotice title="Delivery">Only owners and admins can read webhook deliveries.</PageNotice>
    )
  const delivery = await load((api) =>
    api.GET('/v1/orgs/{orgId}/webhook-endpoints/{endpointId}/deliveries/{deliveryId}', {
      params: { path: { orgId, endpointId, deliveryId } },
    }),
  )
  return (
    <div className="grid gap-6">
      <div className="grid gap-1">
        <p className="text-sm text-muted-foreground">
          <Link href={`/orgs/${orgId}/webhooks/${endpointId}`} className="hover:underline">
            Endpoint
          </Link>
        </p>
        <h1 className="flex flex-wrap items-center gap-2 text-xl font-semibold">
          <span className="font-mono">{delivery.eventType}</span>
          <Badge variant={delivery.status === 'failed' ? 'destructive' : 'secondary'}>
            {delivery.status}
          </Badge>
        </h1>
        <p className="font-mono text-xs text-muted-foreground">webhook-id {delivery.eventId}</p>
      </div>
      <RedeliverButton ids={{ orgId, endpointId, deliveryId }} />
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Attempts</h2>
        </CardHeader>
        <CardContent>
          {delivery.attempts.length === 0 ? (
            <p className="text-sm text-muted-foreground">No attempt yet.</p>
          ) : (
            <ol className="grid gap-3" aria-label="Attempts">
              {delivery.attempts.map((attempt) => (
                <li key={attempt.attempt} className="grid gap-1 rounded-lg border p-3 text-sm">
                  <p className="flex flex-wrap items-center gap-2 font-medium">
                    Attempt {attempt.attempt}
                    <Badge variant={attempt.succeeded ? 'secondary' : 'destructive'}>
                      {attempt.succeeded ? 'Succeeded' : 'Failed'}
                    </Badge>
                    <span className="text-xs text-muted-foreground">
                      {when.format(new Date(attempt.startedAt))} · {attempt.durationMs} ms
                      {attempt.responseStatus ? ` · HTTP ${attempt.responseStatus}` : ''}
                    </span>
                  </p>
                  {attempt.error ? <p className="text-destructive">{attempt.error}</p> : null}
                  {attempt.responseBody ? (
                    <pre className="overflow-x-auto rounded bg-muted p-2 text-xs whitespace-pre-wrap">
                      {attempt.responseBody}
                    </pre>
                  ) : null}
                </li>
              ))}
            </ol>
          )}
        </CardContent>
      </Card>
      <JsonCard title="Payload" value={delivery.payload} />
    </div>
  )
}
