import type { Metadata } from 'next'
import Link from 'next/link'
import { Alert } from '@/components/ui/alert.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { safeReturnPath } from '@/lib/return-path.ts'
import { signUpOpen } from '@/lib/server/flags.ts'
import { SignUpForm } from './sign-up-form.tsx'

export const metadata: Metadata = { title: 'Sign up' }

type Search = Promise<Record<string, string | string[] | undefined>>

export default async function SignUpPage({ searchParams }: { searchParams: Search }) {
  const raw = (await searchParams).next
  const next = typeof raw === 'string' ? safeReturnPath(raw) : undefined
  // The kill switch (feature flag signup-enabled); the API refuses sign-ups too while off.
  const open = await signUpOpen()
  return (
    <Card>
      <CardHeader>
        <h1 className="text-2xl font-semibold">Sign up</h1>
        <CardDescription>Create your account; your team joins you after.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {open ? (
          <SignUpForm next={next} />
        ) : (
          <Alert role="status">New accounts cannot be created right now. Try again later.</Alert>
        )}
        <p className="text-sm text-muted-foreground">
          Already have an account?{' '}
          <Link
            className="underline underline-offset-4"
            href={next ? `/sign-in?${new URLSearchParams({ next })}` : '/sign-in'}
          >
            Sign in
          </Link>
        </p>
      </CardContent>
    </Card>
  )
}
