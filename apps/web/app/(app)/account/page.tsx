import type { Metadata } from 'next'
import Link from 'next/link'
import { Badge } from '@/components/ui/badge.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { currentUser, load } from '@/lib/server/api.ts'
import { ChangePasswordForm } from './change-password-form.tsx'
import { ConnectedAccounts, ProfileForm } from './profile-forms.tsx'

export const metadata: Metadata = { title: 'Account' }

export default async function AccountPage() {
  const [user, accounts] = await Promise.all([
    currentUser(),
    load((api) => api.GET('/v1/auth/oauth/accounts')),
  ])
  return (
    <div className="mx-auto grid w-full max-w-2xl gap-6">
      <h1 className="text-2xl font-semibold">Account</h1>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Profile</h2>
        </CardHeader>
        <CardContent>
          <ProfileForm name={user.name} />
          <dl className="mt-6 grid gap-3 text-sm sm:grid-cols-[8rem_1fr]">
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
          <h2 className="text-lg font-semibold">Connected accounts</h2>
          <CardDescription>Sign-in providers linked to this account.</CardDescription>
        </CardHeader>
        <CardContent>
          <ConnectedAccounts accounts={accounts.data} />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">
            {user.hasPassword ? 'Change password' : 'Password'}
          </h2>
          <CardDescription>
            {user.hasPassword
              ? 'Every other device is signed out; this one stays signed in.'
              : 'You sign in with a provider. To add a password, ask for a reset link: it sets one.'}
          </CardDescription>
        </CardHeader>
        <CardContent>
          {user.hasPassword ? (
            <ChangePasswordForm />
          ) : (
            <Link href="/forgot-password" className="text-sm underline underline-offset-4">
              Email me a link to set a password
            </Link>
          )}
        </CardContent>
      </Card>
    </div>
  )
}
