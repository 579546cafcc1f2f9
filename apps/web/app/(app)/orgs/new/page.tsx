import type { Metadata } from 'next'
import { Alert } from '@/components/ui/alert.tsx'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { CreateOrganizationForm } from './create-organization-form.tsx'

export const metadata: Metadata = { title: 'Create organization' }

type Search = Promise<Record<string, string | string[] | undefined>>

export default async function NewOrganizationPage({ searchParams }: { searchParams: Search }) {
  const welcome = (await searchParams).welcome !== undefined
  return (
    <div className="mx-auto grid max-w-lg gap-4">
      {welcome ? (
        <Alert variant="success" role="status">
          Your account is ready. We sent you an email to verify your address.
        </Alert>
      ) : null}
      <Card>
        <CardHeader>
          <h1 className="text-2xl font-semibold">Create organization</h1>
          <CardDescription>
            An organization holds your team's projects. You will be its owner.
          </CardDescription>
        </CardHeader>
        <CardContent>
          <CreateOrganizationForm />
        </CardContent>
      </Card>
    </div>
  )
}
