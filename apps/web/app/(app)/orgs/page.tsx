import type { Metadata } from 'next'
import Link from 'next/link'
import { redirect } from 'next/navigation'
import { buttonVariants } from '@/components/ui/button.tsx'
import { Card } from '@/components/ui/card.tsx'
import { myOrganizations } from '@/lib/server/api.ts'

export const metadata: Metadata = { title: 'Organizations' }

/** Where sign-in lands: the user's organizations, or creating the first one. */
export default async function OrganizationsPage() {
  const organizations = (await myOrganizations()).data
  if (organizations.length === 0) redirect('/orgs/new')
  return (
    <div className="grid gap-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Organizations</h1>
        <Link href="/orgs/new" className={buttonVariants({ variant: 'outline' })}>
          Create organization
        </Link>
      </div>
      <Card>
        <ul className="divide-y">
          {organizations.map((org) => (
            <li key={org.id}>
              <Link
                href={`/orgs/${org.id}/projects`}
                className="flex items-center justify-between gap-3 px-6 py-4 hover:bg-muted/50"
              >
                <span className="font-medium">{org.name}</span>
                <span className="text-sm text-muted-foreground">
                  {org.deletionRequestedAt ? 'being deleted · ' : ''}
                  <span className="capitalize">{org.role}</span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      </Card>
    </div>
  )
}
