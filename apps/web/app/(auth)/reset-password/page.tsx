import type { Metadata } from 'next'
import Link from 'next/link'
import { Alert } from '@/components/ui/alert.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { ResetPasswordForm } from './reset-password-form.tsx'

export const metadata: Metadata = { title: 'Reset password' }

type Search = Promise<Record<string, string | string[] | undefined>>

/** Where the emailed link lands; the token is checked when the new password is sent. */
export default async function ResetPasswordPage({ searchParams }: { searchParams: Search }) {
  const token = (await searchParams).token
  return (
    <Card>
      <CardHeader>
        <h1 className="text-2xl font-semibold">Choose a new password</h1>
        <CardDescription>
          Every device signed in to your account will be signed out.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {typeof token === 'string' && token ? (
          <ResetPasswordForm token={token} />
        ) : (
          <Alert variant="destructive" role="alert">
            This link is incomplete. Open the link from the email again, or{' '}
            <Link href="/forgot-password" className="underline">
              ask for a new one
            </Link>
            .
          </Alert>
        )}
      </CardContent>
    </Card>
  )
}
