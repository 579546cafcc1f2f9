'use client'

import Link from 'next/link'
import { useState } from 'react'
import { Alert } from '@/components/ui/alert.tsx'
import { Button, buttonVariants } from '@/components/ui/button.tsx'
import type { UiProblem } from '@/lib/problem.ts'
import { resendVerification, verifyEmail } from '../recovery-actions.ts'

export function VerifyEmail({ token }: { token: string | undefined }) {
  const [state, setState] = useState<'idle' | 'busy' | 'verified' | 'resent'>('idle')
  const [problem, setProblem] = useState<UiProblem | null>(null)
  async function run(
    action: () => Promise<{ ok: boolean; problem?: UiProblem } | undefined>,
    done: 'verified' | 'resent',
  ) {
    setState('busy')
    setProblem(null)
    const result = await action()
    if (result && !result.ok && result.problem) {
      setProblem(result.problem)
      setState('idle')
    } else setState(done)
  }
  if (state === 'verified')
    return (
      <div className="grid gap-4">
        <Alert role="status" variant="success">
          Your email is verified.
        </Alert>
        <Link href="/orgs" className={buttonVariants()}>
          Continue
        </Link>
      </div>
    )
  return (
    <div className="grid gap-4">
      {problem ? (
        <Alert variant="destructive" role="alert">
          {problem.message}
        </Alert>
      ) : null}
      {state === 'resent' ? (
        <Alert role="status" variant="success">
          A new link is on its way. Check your inbox.
        </Alert>
      ) : null}
      {token ? (
        <Button
          disabled={state === 'busy'}
          onClick={() => run(() => verifyEmail({ token }), 'verified')}
        >
          Verify email
        </Button>
      ) : (
        <p className="text-sm text-muted-foreground">
          Open the link we emailed you, or send a new one. You need to be signed in to send one.
        </p>
      )}
      <Button
        variant="outline"
        disabled={state === 'busy'}
        onClick={() => run(() => resendVerification({}), 'resent')}
      >
        Send a new link
      </Button>
    </div>
  )
}
