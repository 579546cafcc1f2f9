import type { ReactNode } from 'react'
import { OrgNav } from '@/components/shell/org-nav.tsx'
import { organization } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'

/** An organization's pages: another organization's id is the 404 page, from the API. */
export default async function OrganizationLayout({
  children,
  params,
}: {
  children: ReactNode
  params: Promise<{ orgId: string }>
}) {
  const orgId = idOrNotFound((await params).orgId)
  const org = await organization(orgId)
  return (
    <div className="grid gap-6">
      <OrgNav orgId={org.id} role={org.role} />
      {org.deletionRequestedAt ? (
        <p
          role="status"
          className="rounded-md border border-destructive/50 px-4 py-3 text-sm text-destructive"
        >
          This organization is being deleted. Nothing in it can change any more.
        </p>
      ) : null}
      {children}
    </div>
  )
}
