import type { Metadata } from 'next'
import Link from 'next/link'
import { Alert } from '@/components/ui/alert.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { safeReturnPath } from '@/lib/return-path.ts'
import { SignInForm } from './sign-in-form.tsx'

export const metadata: Metadata = { title: 'Sign in' }

type Search = Promise<Record<string, string | string[] | undefined>>

export default async function SignInPage({ searchParams }: { searchParams: Search }) {
  const query = await searchParams
  const next = safeReturnPath(query.next)
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
