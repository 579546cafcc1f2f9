import { listWebhookDeliveriesQuery } from '@repo/schemas'
import type { Metadata } from 'next'
import Link from 'next/link'
import { EmptyState } from '@/components/lists/empty-state.tsx'
import { ListFilters } from '@/components/lists/list-filters.tsx'
import { Pagination } from '@/components/lists/pagination.tsx'
import { PageNotice } from '@/components/shell/page-notice.tsx'
import { Badge } from '@/components/ui/badge.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { listStateFrom } from '@/lib/list-query.ts'
import { load, organization } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'
import { EditEndpointForm } from '../endpoint-form.tsx'
import { EndpointDanger } from './endpoint-danger.tsx'

export const metadata: Metadata = { title: 'Webhook endpoint' }

type Props = {
  params: Promise<{ orgId: string; endpointId: string }>
  searchParams: Promise<Record<string, string | string[] | undefined>>
}

const when = new Intl.DateTimeFormat('en', {
  dateStyle: 'medium',
  timeStyle: 'medium',
  timeZone: 'UTC',
})

export default async function EndpointPage({ params, searchParams }: Props) {
  const raw = await params
  const orgId = idOrNotFound(raw.orgId)
  const endpointId = idOrNotFound(raw.endpointId)
  // The API refuses members endpoints; asking would show them an error instead of why.
  if ((await organization(orgId)).role === 'member')
    return (
      <PageNotice title="Webhook endpoint">Only owners and admins can manage webhooks.</PageNotice>
    )
  const state = listStateFrom(listWebhookDeliveriesQuery, await searchParams)
  const path = { path: { orgId, endpointId } }
  const [endpoint, deliveries] = await Promise.all([
    load((api) => api.GET('/v1/orgs/{orgId}/webhook-endpoints/{endpointId}', { params: path })),
    load((api) =>
      api.GET('/v1/orgs/{orgId}/webhook-endpoints/{endpointId}/deliveries', {
        params: { ...path, query: state },
      }),
    ),
  ])
  const href = `/orgs/${orgId}/webhooks/${endpointId}`
  return (
    <div className="grid gap-6">
      <div className="grid gap-1">
        <p className="text-sm text-muted-foreground">
          <Link href={`/orgs/${orgId}/webhooks`} className="hover:underline">
            Webhooks
          </Link>
        </p>
        <h1 className="font-mono text-xl font-semibold break-all">{endpoint.url}</h1>
        {endpoint.disabledReason ? (
          <p role="status" className="text-sm text-destructive">
            Disabled: {endpoint.disabledReason}
          </p>
        ) : null}
      </div>
      <section className="grid gap-3" aria-labelledby="deliveries">
        <h2 id="deliveries" className="text-lg font-semibold">
          Deliveries
        </h2>
        <ListFilters
          path={href}
          state={state}
          selects={[
            {
              name: 'status',
              label: 'Status',
              options: [
                { value: '', label: 'Any status' },
                { value: 'pending', label: 'Pending' },
                { value: 'succeeded', label: 'Succeeded' },
                { value: 'failed', label: 'Failed' },
                { value: 'canceled', label: 'Canceled' },
              ],
            },
          ]}
        />
        {deliveries.data.length === 0 ? (
          <EmptyState title={<>No deliveries {state.status ? 'with this status' : 'yet'}.</>} />
        ) : (
          <Card>
            <ul className="divide-y" aria-label="Deliveries">
              {deliveries.data.map((delivery) => (
                <li key={delivery.id} className="flex flex-wrap items-center gap-3 px-4 py-3">
                  <Link
                    href={`${href}/deliveries/${delivery.id}`}
                    className="min-w-0 flex-1 font-mono text-sm hover:underline"
                  >
                    {delivery.eventType}
                  </Link>
                  <span className="text-xs text-muted-foreground">
                    {when.format(new Date(delivery.createdAt))} · {delivery.attemptCount} attempt
                    {delivery.attemptCount === 1 ? '' : 's'}
                  </span>
                  <Badge variant={delivery.status === 'failed' ? 'destructive' : 'secondary'}>
                    {delivery.status}
                  </Badge>
                </li>
              ))}
            </ul>
          </Card>
        )}
        <Pagination path={href} state={state} nextCursor={deliveries.nextCursor} />
      </section>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Settings</h2>
        </CardHeader>
        <CardContent>
          <EditEndpointForm orgId={orgId} endpoint={endpoint} />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Secret and deletion</h2>
          <CardDescription>
            After a rotation, deliveries are signed with both secrets for a while, so receivers can
            switch without missing any.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <EndpointDanger orgId={orgId} endpointId={endpointId} />
        </CardContent>
      </Card>
    </div>
  )
}
