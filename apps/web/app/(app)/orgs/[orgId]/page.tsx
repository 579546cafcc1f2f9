import { redirect } from 'next/navigation'
import { idOrNotFound } from '@/lib/server/params.ts'

/** An organization's address opens its projects. */
export default async function OrganizationPage({ params }: { params: Promise<{ orgId: string }> }) {
  redirect(`/orgs/${idOrNotFound((await params).orgId)}/projects`)
}
