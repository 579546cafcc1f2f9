import type { Metadata } from 'next'
import { PageNotice } from '@/components/shell/page-notice.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { load, organization } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'
import { ApiKeyList, CreateApiKeyForm } from './api-key-forms.tsx'

export const metadata: Metadata = { title: 'API keys' }

export default async function ApiKeysPage({ params }: { params: Promise<{ orgId: string }> }) {
  const orgId = idOrNotFound((await params).orgId)
  // The API refuses members the list; asking would show them an error instead of why.
  if ((await organization(orgId)).role === 'member')
    return <PageNotice title="API keys">Only owners and admins can manage API keys.</PageNotice>
  const keys = await load((api) =>
    api.GET('/v1/orgs/{orgId}/api-keys', { params: { path: { orgId }, query: { limit: 100 } } }),
  )
  return (
    <div className="grid gap-6">
      <h1 className="text-2xl font-semibold">API keys</h1>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Create an API key</h2>
          <CardDescription>
            For scripts and other services: send it as{' '}
            <code>Authorization: Bearer &lt;key&gt;</code>. It can do only what its scopes allow, in
            this organization.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <CreateApiKeyForm orgId={orgId} />
        </CardContent>
      </Card>
      <ApiKeyList orgId={orgId} keys={keys.data} />
    </div>
  )
}
