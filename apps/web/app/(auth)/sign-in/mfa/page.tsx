import type { Metadata } from 'next'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { safeReturnPath } from '@/lib/return-path.ts'
import { MfaForm } from './mfa-form.tsx'

export const metadata: Metadata = { title: 'Two-factor authentication' }

type Search = Promise<Record<string, string | string[] | undefined>>

export default async function MfaPage({ searchParams }: { searchParams: Search }) {
  const next = safeReturnPath((await searchParams).next)
  return (
    <Card>
      <CardHeader>
        <h1 className="text-2xl font-semibold">Two-factor authentication</h1>
        <CardDescription>Enter the code from your authenticator app.</CardDescription>
      </CardHeader>
      <CardContent>
        <MfaForm next={next} />
      </CardContent>
    </Card>
  )
}
