import Link from 'next/link'
import { OrgSwitcher } from './org-switcher.tsx'
import { UserMenu } from './user-menu.tsx'

interface Props {
  user: { name: string; email: string; emailVerified: boolean; platformAdmin: boolean }
  organizations: { id: string; name: string; role: string; deletionRequestedAt: string | null }[]
}

export function AppHeader({ user, organizations }: Props) {
  return (
    <header className="border-b bg-card">
      <div className="mx-auto flex h-14 max-w-6xl items-center gap-3 px-4">
        <Link href="/orgs" className="text-sm font-semibold tracking-widest text-primary uppercase">
          Groundwork
        </Link>
        <span aria-hidden="true" className="text-muted-foreground">
          /
        </span>
        <OrgSwitcher organizations={organizations} />
        <div className="ml-auto">
          <UserMenu name={user.name} email={user.email} operator={user.platformAdmin} />
        </div>
      </div>
      {user.emailVerified ? null : (
        <p className="border-t bg-accent px-4 py-2 text-center text-sm">
          Check your inbox to verify {user.email}.{' '}
          <Link href="/verify-email" className="font-medium underline underline-offset-4">
            Resend the link
          </Link>
        </p>
      )}
    </header>
  )
}
