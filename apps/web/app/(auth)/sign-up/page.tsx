import type { Metadata } from 'next'
import Link from 'next/link'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { safeReturnPath } from '@/lib/return-path.ts'
import { SignUpForm } from './sign-up-form.tsx'

export const metadata: Metadata = { title: 'Sign up' }

type Search = Promise<Record<string, string | string[] | undefined>>

export default async function SignUpPage({ searchParams }: { searchParams: Search }) {
  const raw = (await searchParams).next
  const next = typeof raw === 'string' ? safeReturnPath(raw) : undefined
  return (
    <Card>
      <CardHeader>
        <h1 className="text-2xl font-semibold">Sign up</h1>
        <CardDescription>Create your account; your team joins you after.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        <SignUpForm next={next} />
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
