import type { Metadata } from 'next'
import Link from 'next/link'
import { buttonVariants } from '@/components/ui/button.tsx'

export const metadata: Metadata = { title: 'Not found' }

/** Also what another organization's ids show: nothing says whether they exist. */
export default function NotFound() {
  return (
    <main className="mx-auto flex min-h-[60dvh] max-w-md flex-col items-center justify-center gap-4 px-4 text-center">
      <p className="text-sm font-semibold text-primary">404</p>
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="text-muted-foreground">
        This page does not exist, or you do not have access to it.
      </p>
      <Link href="/orgs" className={buttonVariants()}>
        Go to your organizations
      </Link>
    </main>
  )
}
