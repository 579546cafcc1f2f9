'use client'

import { useState } from 'react'
import { signOut } from '@/app/(auth)/actions.ts'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import type { UiProblem } from '@/lib/problem.ts'
import { acceptInvitation } from '../../invitation-actions.ts'

export function AcceptInvitation({ token, email }: { token: string; email: string }) {
  const [problem, setProblem] = useState<UiProblem | null>(null)
  const [busy, setBusy] = useState(false)
  return (
    <div className="grid gap-3">
      {problem ? (
        <Alert variant="destructive" role="alert">
          {problem.message}
        </Alert>
      ) : null}
      <Button
        disabled={busy}
        onClick={async () => {
          setBusy(true)
          setProblem(null)
          const result = await acceptInvitation({ token })
          if (result && !result.ok) setProblem(result.problem)
          setBusy(false)
        }}
      >
        Accept invitation
      </Button>
      {problem && problem.status !== 429 ? (
        <Button
          variant="outline"
          onClick={() =>
            void signOut({ next: `/invitations/accept?${new URLSearchParams({ token })}` })
          }
        >
          Not {email}? Sign out
        </Button>
      ) : null}
    </div>
  )
}
