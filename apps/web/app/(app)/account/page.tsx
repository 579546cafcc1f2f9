import type { Metadata } from 'next'
import { Badge } from '@/components/ui/badge.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { currentUser } from '@/lib/server/api.ts'
import { ChangePasswordForm } from './change-password-form.tsx'

export const metadata: Metadata = { title: 'Account' }

export default async function AccountPage() {
  const user = await currentUser()
  return (
    <div className="mx-auto grid w-full max-w-2xl gap-6">
      <h1 className="text-2xl font-semibold">Account</h1>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Profile</h2>
        </CardHeader>
        <CardContent>
          <dl className="grid gap-3 text-sm sm:grid-cols-[8rem_1fr]">
            <dt className="text-muted-foreground">Name</dt>
            <dd>{user.name}</dd>
            <dt className="text-muted-foreground">Email</dt>
            <dd className="flex flex-wrap items-center gap-2">
              {user.email}
              <Badge variant={user.emailVerified ? 'secondary' : 'outline'}>
                {user.emailVerified ? 'Verified' : 'Not verified'}
              </Badge>
            </dd>
          </dl>
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Change password</h2>
          <CardDescription>
            Every other device is signed out; this one stays signed in.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <ChangePasswordForm />
        </CardContent>
      </Card>
    </div>
  )
}
