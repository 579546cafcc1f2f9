'use client'

import { Check, ChevronsUpDown, Plus } from 'lucide-react'
import { useParams } from 'next/navigation'
import {
  Menu,
  MenuContent,
  MenuGroup,
  MenuGroupLabel,
  MenuLinkItem,
  MenuSeparator,
  MenuTrigger,
} from '@/components/ui/menu.tsx'

interface Props {
  organizations: { id: string; name: string; role: string; deletionRequestedAt: string | null }[]
}

/** On every signed-in page: the current organization, and a way to any other. */
export function OrgSwitcher({ organizations }: Props) {
  const { orgId } = useParams<{ orgId?: string }>()
  const current = organizations.find((org) => org.id === orgId)
  return (
    <Menu>
      {/* Named by what it shows and then what it does: speech users say what they see. */}
      <MenuTrigger className="inline-flex min-w-0 max-w-[50vw] items-center gap-1 rounded-md px-2 py-1.5 text-sm font-medium hover:bg-accent">
        <span className="truncate">{current?.name ?? 'Organizations'}</span>
        <span className="sr-only">, switch organization</span>
        <ChevronsUpDown aria-hidden="true" className="size-4 shrink-0 text-muted-foreground" />
      </MenuTrigger>
      <MenuContent align="start">
        <MenuGroup>
          <MenuGroupLabel>Organizations</MenuGroupLabel>
          {organizations.map((org) => (
            <MenuLinkItem key={org.id} href={`/orgs/${org.id}/projects`}>
              <span className="flex-1 truncate">{org.name}</span>
              {org.deletionRequestedAt ? (
                <span className="text-xs text-muted-foreground">being deleted</span>
              ) : null}
              {org.id === orgId ? <Check aria-label="current" /> : null}
            </MenuLinkItem>
          ))}
        </MenuGroup>
        <MenuSeparator />
        <MenuLinkItem href="/orgs/new">
          <Plus aria-hidden="true" /> Create organization
        </MenuLinkItem>
      </MenuContent>
    </Menu>
  )
}
