import type { Metadata } from 'next'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { organization } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'
import { DeleteOrganization, RenameOrganizationForm } from './settings-forms.tsx'

export const metadata: Metadata = { title: 'Settings' }

export default async function SettingsPage({ params }: { params: Promise<{ orgId: string }> }) {
  const org = await organization(idOrNotFound((await params).orgId))
  const admin = org.role !== 'member'
  return (
    <div className="mx-auto grid w-full max-w-2xl gap-6">
      <h1 className="text-2xl font-semibold">Settings</h1>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Name</h2>
          <CardDescription>
            {admin
              ? 'Shown to every member.'
              : 'Only admins and owners can rename the organization.'}
          </CardDescription>
        </CardHeader>
        <CardContent>
          {admin ? <RenameOrganizationForm orgId={org.id} name={org.name} /> : <p>{org.name}</p>}
        </CardContent>
      </Card>
      {org.role === 'owner' ? (
        <Card className="border-destructive/40">
          <CardHeader>
            <h2 className="text-lg font-semibold">Delete organization</h2>
            <CardDescription>
              Deletes every project, task, key and webhook of {org.name}, and removes every member.
              This cannot be undone.
            </CardDescription>
          </CardHeader>
          <CardContent>
            <DeleteOrganization orgId={org.id} name={org.name} />
          </CardContent>
        </Card>
      ) : null}
    </div>
  )
}
