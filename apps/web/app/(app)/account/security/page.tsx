import type { Metadata } from 'next'
import { Badge } from '@/components/ui/badge.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { describeDevice } from '@/lib/device.ts'
import { currentUser, load } from '@/lib/server/api.ts'
import { MfaSection } from './mfa-section.tsx'
import { RevokeSession, SignOutButtons } from './session-buttons.tsx'

export const metadata: Metadata = { title: 'Security' }

const when = new Intl.DateTimeFormat('en', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
})

export default async function SecurityPage() {
  const [user, sessions] = await Promise.all([
    currentUser(),
    load((api) => api.GET('/v1/auth/sessions', { params: { query: { limit: 100 } } })),
  ])
  return (
    <div className="mx-auto grid w-full max-w-2xl gap-6">
      <h1 className="text-2xl font-semibold">Security</h1>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Two-factor authentication</h2>
        </CardHeader>
        <CardContent>
          <MfaSection enabled={user.mfaEnabled} />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <h2 className="text-lg font-semibold">Sessions</h2>
          <CardDescription>Where your account is signed in. Times are UTC.</CardDescription>
        </CardHeader>
        <CardContent className="grid gap-4">
          <ul className="divide-y rounded-lg border" aria-label="Sessions">
            {sessions.data.map((session) => (
              <li key={session.id} className="flex flex-wrap items-center gap-3 px-4 py-3">
                <div className="grid min-w-0 flex-1 gap-0.5">
                  <p className="flex items-center gap-2 font-medium">
                    {describeDevice(session.userAgent)}
                    {session.current ? <Badge>This device</Badge> : null}
                  </p>
                  <p className="text-xs text-muted-foreground">
                    Last used {when.format(new Date(session.lastUsedAt))}
                    {session.ipAddress ? ` from ${session.ipAddress}` : ''} · signed in{' '}
                    {when.format(new Date(session.createdAt))}
                  </p>
                </div>
                {session.current ? null : (
                  <RevokeSession
                    sessionId={session.id}
                    device={describeDevice(session.userAgent)}
                  />
                )}
              </li>
            ))}
          </ul>
          <SignOutButtons />
        </CardContent>
      </Card>
    </div>
  )
}
