'use client'

import { LogOut, UserRound } from 'lucide-react'
import { useState } from 'react'
import { signOut } from '@/app/(auth)/actions.ts'
import {
  Menu,
  MenuContent,
  MenuItem,
  MenuLinkItem,
  MenuSeparator,
  MenuTrigger,
} from '@/components/ui/menu.tsx'
import { runAction } from '@/lib/problem.ts'

export function UserMenu({
  name,
  email,
  operator,
}: {
  name: string
  email: string
  operator: boolean
}) {
  const [problem, setProblem] = useState<string | null>(null)
  return (
    <>
      {problem ? (
        <p role="alert" className="text-sm text-destructive">
          {problem}
        </p>
      ) : null}
      <Menu>
        <MenuTrigger
          aria-label={`Account menu for ${name}`}
          className="inline-flex items-center gap-2 rounded-md px-2 py-1.5 text-sm hover:bg-accent"
        >
          <UserRound aria-hidden="true" className="size-4" />
          <span className="hidden max-w-40 truncate sm:inline">{name}</span>
        </MenuTrigger>
        <MenuContent>
          <p className="px-2 py-1.5 text-xs text-muted-foreground">{email}</p>
          <MenuLinkItem href="/account">Account</MenuLinkItem>
          <MenuLinkItem href="/account/security">Security</MenuLinkItem>
          {operator ? <MenuLinkItem href="/admin/dead-letters">Dead letters</MenuLinkItem> : null}
          <MenuSeparator />
          <MenuItem
            onClick={async () => {
              const result = await runAction(() => signOut({}))
              if (result && !result.ok) setProblem(result.problem.message)
            }}
          >
            <LogOut aria-hidden="true" /> Sign out
          </MenuItem>
        </MenuContent>
      </Menu>
    </>
  )
}
