import type { Metadata } from 'next'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { currentUser, getMembers, load, organization } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'
import { InvitationRow, InviteForm } from './invitations.tsx'
import { MemberRow } from './member-row.tsx'

export const metadata: Metadata = { title: 'Members' }

export default async function MembersPage({ params }: { params: Promise<{ orgId: string }> }) {
  const orgId = idOrNotFound((await params).orgId)
  const [org, me, members] = await Promise.all([
    organization(orgId),
    currentUser(),
    getMembers(orgId),
  ])
  const admin = org.role !== 'member'
  const invitations = admin
    ? await load((api) =>
        api.GET('/v1/orgs/{orgId}/invitations', {
          params: { path: { orgId }, query: { limit: 100 } },
        }),
      )
    : null
  return (
    <div className="grid gap-6">
      <h1 className="text-2xl font-semibold">Members</h1>
      <Card>
        <ul className="divide-y" aria-label="Members">
          {members.data.map((member) => (
            <MemberRow
              key={member.userId}
              orgId={orgId}
              member={member}
              me={member.userId === me.id}
              myRole={org.role}
            />
          ))}
        </ul>
      </Card>
      {invitations ? (
        <Card>
          <CardHeader>
            <h2 className="text-lg font-semibold">Invite a member</h2>
            <CardDescription>They get an email with a link that works for 7 days.</CardDescription>
          </CardHeader>
          <CardContent className="grid gap-6">
            <InviteForm orgId={orgId} canInviteOwners={org.role === 'owner'} />
            {invitations.data.length > 0 ? (
              <div className="grid gap-2">
                <h3 className="font-medium">Pending invitations</h3>
                <ul className="divide-y rounded-lg border" aria-label="Pending invitations">
                  {invitations.data.map((invitation) => (
                    <InvitationRow
                      key={invitation.id}
                      orgId={orgId}
                      invitation={invitation}
                      manageable={invitation.role !== 'owner' || org.role === 'owner'}
                    />
                  ))}
                </ul>
              </div>
            ) : (
              <p className="text-sm text-muted-foreground">No pending invitations.</p>
            )}
          </CardContent>
        </Card>
      ) : null}
    </div>
  )
}
