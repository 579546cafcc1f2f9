import type { Metadata } from 'next'
import { Card, CardContent, CardHeader } from '@/components/ui/card.tsx'
import { VerifyEmail } from './verify-email.tsx'

export const metadata: Metadata = { title: 'Verify email' }

type Search = Promise<Record<string, string | string[] | undefined>>

/**
 * The emailed link's landing page. The token is spent by a click, not by loading the page:
 * mail scanners that open links must not use it up.
 */
export default async function VerifyEmailPage({ searchParams }: { searchParams: Search }) {
  const token = (await searchParams).token
  return (
    <Card>
      <CardHeader>
        <h1 className="text-2xl font-semibold">Verify your email</h1>
      </CardHeader>
      <CardContent>
        <VerifyEmail token={typeof token === 'string' ? token : undefined} />
      </CardContent>
    </Card>
  )
}
