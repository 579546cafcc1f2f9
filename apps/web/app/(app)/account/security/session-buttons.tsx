'use client'

import { useState } from 'react'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import { revokeOtherSessions, revokeSession, signOutEverywhere } from '../actions.ts'

export function RevokeSession({ sessionId, device }: { sessionId: string; device: string }) {
  const [busy, setBusy] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)
  return (
    <div className="grid justify-items-end gap-1">
      <Button
        size="sm"
        variant="outline"
        disabled={busy}
        aria-label={`Revoke session on ${device}`}
        onClick={async () => {
          setBusy(true)
          const result = await revokeSession({ sessionId })
          if (result && !result.ok) setProblem(result.problem.message)
          setBusy(false)
        }}
      >
        Revoke
      </Button>
      {problem ? (
        <p role="alert" className="text-xs text-destructive">
          {problem}
        </p>
      ) : null}
    </div>
  )
}

export function SignOutButtons() {
  const [message, setMessage] = useState<{ text: string; ok: boolean } | null>(null)
  return (
    <div className="grid gap-3">
      {message ? (
        <Alert
          role={message.ok ? 'status' : 'alert'}
          variant={message.ok ? 'success' : 'destructive'}
        >
          {message.text}
        </Alert>
      ) : null}
      <div className="flex flex-wrap gap-2">
        <Button
          variant="outline"
          onClick={async () => {
            const result = await revokeOtherSessions({})
            if (result)
              setMessage(
                result.ok
                  ? { text: 'Every other device is signed out.', ok: true }
                  : { text: result.problem.message, ok: false },
              )
          }}
        >
          Sign out other devices
        </Button>
        <Button
          variant="destructive"
          onClick={async () => {
            const result = await signOutEverywhere({})
            if (result && !result.ok) setMessage({ text: result.problem.message, ok: false })
          }}
        >
          Sign out everywhere
        </Button>
      </div>
    </div>
  )
}
