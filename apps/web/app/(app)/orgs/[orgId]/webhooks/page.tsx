import type { Metadata } from 'next'
import Link from 'next/link'
import { EmptyState } from '@/components/lists/empty-state.tsx'
import { PageNotice } from '@/components/shell/page-notice.tsx'
import { Badge } from '@/components/ui/badge.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { load, organization } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'
import { EndpointForm } from './endpoint-form.tsx'

export const metadata: Metadata = { title: 'Webhooks' }

export default async function WebhooksPage({ params }: { params: Promise<{ orgId: string }> }) {
  const orgId = idOrNotFound((await params).orgId)
  // The API refuses members the list; asking would show them an error instead of why.
  if ((await organization(orgId)).role === 'member')
    return <PageNotice title="Webhooks">Only owners and admins can manage webhooks.</PageNotice>
  const endpoints = await load((api) =>
    api.GET('/v1/orgs/{orgId}/webhook-endpoints', {
      params: { path: { orgId }, query: { limit: 100 } },
    }),
  )
  return (
    <div className="grid gap-6">
      <h1 className="text-2xl font-semibold">Webhooks</h1>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Add an endpoint</h2>
          <CardDescription>
            We POST each event to it, signed per the Standard Webhooks specification, and retry
            failures with backoff.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <EndpointForm orgId={orgId} />
        </CardContent>
      </Card>
      {endpoints.data.length === 0 ? (
        <EmptyState title={<>No endpoints yet.</>} />
      ) : (
        <Card>
          <ul className="divide-y" aria-label="Endpoints">
            {endpoints.data.map((endpoint) => (
              <li key={endpoint.id} className="flex flex-wrap items-center gap-3 px-4 py-3">
                <div className="grid min-w-0 flex-1 gap-1">
                  <Link
                    href={`/orgs/${orgId}/webhooks/${endpoint.id}`}
                    className="truncate font-mono text-sm font-medium hover:underline"
                  >
                    {endpoint.url}
                  </Link>
                  <p className="text-xs text-muted-foreground">{endpoint.events.join(', ')}</p>
                </div>
                <Badge variant={endpoint.enabled ? 'secondary' : 'outline'}>
                  {endpoint.enabled ? 'Enabled' : 'Disabled'}
                </Badge>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </div>
  )
}
