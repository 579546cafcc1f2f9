'use client'

import Link from 'next/link'
import { usePathname } from 'next/navigation'
import { cn } from '@/lib/utils.ts'

/** The organization's sections; the ones only admins may use are shown to admins. */
export function OrgNav({ orgId, role }: { orgId: string; role: 'owner' | 'admin' | 'member' }) {
  const pathname = usePathname()
  const base = `/orgs/${orgId}`
  const admin = role !== 'member'
  const links = [
    { href: `${base}/projects`, label: 'Projects' },
    { href: `${base}/members`, label: 'Members' },
    ...(admin
      ? [
          { href: `${base}/api-keys`, label: 'API keys' },
          { href: `${base}/webhooks`, label: 'Webhooks' },
          { href: `${base}/audit-log`, label: 'Audit log' },
        ]
      : []),
    { href: `${base}/settings`, label: 'Settings' },
  ]
  return (
    <nav aria-label="Organization" className="-mx-1 overflow-x-auto">
      <ul className="flex gap-1 border-b">
        {links.map((link) => {
          const current = pathname === link.href || pathname.startsWith(`${link.href}/`)
          return (
            <li key={link.href}>
              <Link
                href={link.href}
                aria-current={current ? 'page' : undefined}
                className={cn(
                  '-mb-px inline-block border-b-2 border-transparent px-3 py-2 text-sm whitespace-nowrap text-muted-foreground hover:text-foreground',
                  current && 'border-primary font-medium text-foreground',
                )}
              >
                {link.label}
              </Link>
            </li>
          )
        })}
      </ul>
    </nav>
  )
}
