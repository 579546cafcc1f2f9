'use client'

import type { Role } from '@repo/schemas'
import { useState } from 'react'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { useStepUp } from '@/components/forms/step-up.tsx'
import { Badge } from '@/components/ui/badge.tsx'
import { NativeSelect } from '@/components/ui/input.tsx'
import { changeRole, leaveOrganization, removeMember } from './actions.ts'

interface Member {
  userId: string
  name: string
  email: string
  role: Role
  removalRequestedAt: string | null
}

const roleLabels: Record<Role, string> = { owner: 'Owner', admin: 'Admin', member: 'Member' }

export function MemberRow({
  orgId,
  member,
  me,
  myRole,
}: {
  orgId: string
  member: Member
  me: boolean
  myRole: Role
}) {
  const [problem, setProblem] = useState<string | null>(null)
  const [role, setRole] = useState(member.role)
  const guard = useStepUp()
  // The API decides; this only hides controls the role can never use.
  const canManage =
    !me &&
    !member.removalRequestedAt &&
    myRole !== 'member' &&
    (myRole === 'owner' || member.role !== 'owner')
  const ids = { orgId, userId: member.userId }
  return (
    <li className="flex flex-wrap items-center gap-3 px-4 py-3">
      <div className="grid min-w-0 flex-1 gap-0.5">
        <p className="font-medium">
          {member.name} {me ? <span className="text-muted-foreground">(you)</span> : null}
        </p>
        <p className="truncate text-sm text-muted-foreground">{member.email}</p>
        {problem ? (
          <p role="alert" className="text-sm text-destructive">
            {problem}
          </p>
        ) : null}
      </div>
      {member.removalRequestedAt ? <Badge variant="outline">Being removed</Badge> : null}
      {canManage ? (
        <>
          <label htmlFor={`role-${member.userId}`} className="sr-only">
            Role of {member.name}
          </label>
          <NativeSelect
            id={`role-${member.userId}`}
            className="w-32"
            value={role}
            onChange={async (event) => {
              const next = event.target.value as Role
              const previous = role
              setRole(next)
              setProblem(null)
              const result = await guard(() => changeRole({ ...ids, role: next }))
              if (result && !result.ok) {
                setRole(previous)
                setProblem(result.problem.message)
              }
            }}
          >
            {(myRole === 'owner'
              ? (['owner', 'admin', 'member'] as const)
              : (['admin', 'member'] as const)
            ).map((value) => (
              <option key={value} value={value}>
                {roleLabels[value]}
              </option>
            ))}
          </NativeSelect>
          <DeleteButton
            label="Remove"
            title={`Remove ${member.name}?`}
            description="They lose access to this organization at once; their tasks become unassigned."
            action={() => removeMember(ids)}
          />
        </>
      ) : (
        <Badge variant="outline">{roleLabels[member.role]}</Badge>
      )}
      {me ? (
        <DeleteButton
          label="Leave organization"
          title="Leave this organization?"
          description="You lose access at once. To come back, someone must invite you again."
          action={() => leaveOrganization(ids)}
        />
      ) : null}
    </li>
  )
}
