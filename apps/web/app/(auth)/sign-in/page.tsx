import type { Metadata } from 'next'
import Link from 'next/link'
import { redirect } from 'next/navigation'
import { Alert } from '@/components/ui/alert.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { safeReturnPath } from '@/lib/return-path.ts'
import { callAnonymous, signedInUser } from '@/lib/server/api.ts'
import { OAuthButtons } from './oauth-buttons.tsx'
import { SignInForm } from './sign-in-form.tsx'

export const metadata: Metadata = { title: 'Sign in' }

/** Why an OAuth sign-in came back without a session, in words. */
const OAUTH_ERRORS: Record<string, string> = {
  oauth_expired:
    'That sign-in took too long or was started in another browser. Try again from here.',
  oauth_denied: 'The provider did not allow the sign-in.',
  oauth_failed: 'Signing in with the provider did not work. Try again.',
  rate_limited: 'Too many sign-in attempts. Try again in a minute.',
}

type Search = Promise<Record<string, string | string[] | undefined>>

export default async function SignInPage({ searchParams }: { searchParams: Search }) {
  const query = await searchParams
  const next = safeReturnPath(query.next)
  // Already signed in (a bookmark, the back button): straight on.
  if (await signedInUser()) redirect(next)
  const providers = await callAnonymous((api) => api.GET('/v1/auth/oauth/providers'))
  const failure = OAUTH_ERRORS[String(query.error)]
  const notice =
    query.reason === 'expired'
      ? 'Your session has ended. Sign in again to continue.'
      : query.signedOut
        ? 'You are signed out.'
        : query.reset
          ? 'Your password was changed. Sign in with the new one.'
          : undefined
  return (
    <Card>
      <CardHeader>
        <h1 className="text-2xl font-semibold">Sign in</h1>
        <CardDescription>Welcome back. Sign in to your account.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {notice ? <Alert role="status">{notice}</Alert> : null}
        {failure ? (
          <Alert role="alert" variant="destructive">
            {failure}
          </Alert>
        ) : null}
        <OAuthButtons providers={providers.ok ? providers.data.data : []} next={next} />
        <SignInForm next={next} />
        <p className="text-sm text-muted-foreground">
          <Link className="underline underline-offset-4" href="/forgot-password">
            Forgot your password?
          </Link>
        </p>
        <p className="text-sm text-muted-foreground">
          New here?{' '}
          <Link
            className="underline underline-offset-4"
            href={`/sign-up?next=${encodeURIComponent(next)}`}
          >
            Create an account
          </Link>
        </p>
      </CardContent>
    </Card>
  )
}
