import type { Metadata } from 'next'
import Link from 'next/link'
import { PageNotice } from '@/components/shell/page-notice.tsx'
import { buttonVariants } from '@/components/ui/button.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { signedInUser } from '@/lib/server/api.ts'
import { AcceptInvitation } from './accept-invitation.tsx'

export const metadata: Metadata = { title: 'Invitation' }

type Search = Promise<Record<string, string | string[] | undefined>>

/**
 * The invitation link's landing page, for a visitor with or without an account and for
 * someone signed in (perhaps as another person than the one invited).
 */
export default async function AcceptInvitationPage({ searchParams }: { searchParams: Search }) {
  const token = (await searchParams).token
  const user = await signedInUser()
  if (typeof token !== 'string' || !token)
    return (
      <PageNotice title="Invitation">
        This invitation link is incomplete. Open the link from the email again.
      </PageNotice>
    )
  const here = `/invitations/accept?${new URLSearchParams({ token })}`
  return (
    <Card>
      <CardHeader>
        <h1 className="text-2xl font-semibold">You are invited</h1>
        <CardDescription>
          {user
            ? `Accept to join the organization as ${user.email}.`
            : 'Sign in, or create an account with the address the invitation was sent to, then accept.'}
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-3">
        {user ? (
          <AcceptInvitation token={token} email={user.email} />
        ) : (
          <>
            <Link
              href={`/sign-up?${new URLSearchParams({ next: here })}`}
              className={buttonVariants()}
            >
              Create an account
            </Link>
            <Link
              href={`/sign-in?${new URLSearchParams({ next: here })}`}
              className={buttonVariants({ variant: 'outline' })}
            >
              Sign in
            </Link>
          </>
        )}
      </CardContent>
    </Card>
  )
}
