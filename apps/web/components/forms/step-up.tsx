'use client'

import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
} from 'react'
import { stepUp } from '@/app/(app)/step-up-actions.ts'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import { Dialog, DialogContent, DialogDescription, DialogTitle } from '@/components/ui/dialog.tsx'
import { Input, Label } from '@/components/ui/input.tsx'
import { type Result, runAction } from '@/lib/problem.ts'

type Guard = <T>(run: () => Promise<T>) => Promise<T | Result<never>>

const StepUpContext = createContext<Guard | null>(null)

function needsStepUp(value: unknown): boolean {
  const result = value as Result<unknown> | undefined
  return Boolean(result && !result.ok && result.problem.code === 'step_up_required')
}

/**
 * Sensitive actions (API keys, webhooks, roles, MFA, deleting) need a recent sign-in. When
 * the API says so, this asks for the password or a code once and runs the action again,
 * so what the user typed is never lost.
 */
export function StepUpProvider({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false)
  const waiting = useRef<((confirmed: boolean) => void) | null>(null)
  const guard = useCallback<Guard>(async (run) => {
    const first = await runAction(run)
    if (!needsStepUp(first)) return first
    const confirmed = await new Promise<boolean>((resolve) => {
      // One dialog at a time: an earlier action still waiting is answered "not confirmed".
      waiting.current?.(false)
      waiting.current = resolve
      setOpen(true)
    })
    return confirmed ? runAction(run) : first
  }, [])
  // Leaving the page while the dialog is open answers the waiting action too.
  useEffect(() => () => waiting.current?.(false), [])
  const finish = (confirmed: boolean) => {
    setOpen(false)
    waiting.current?.(confirmed)
    waiting.current = null
  }
  return (
    <StepUpContext value={guard}>
      {children}
      <Dialog open={open} onOpenChange={(next) => (next ? undefined : finish(false))}>
        <DialogContent>
          <DialogTitle>Confirm it is you</DialogTitle>
          <DialogDescription>
            This change needs a recent sign-in. Enter your password, or a code from your
            authenticator app if two-factor authentication is on.
          </DialogDescription>
          {open ? <StepUpForm onConfirmed={() => finish(true)} /> : null}
        </DialogContent>
      </Dialog>
    </StepUpContext>
  )
}

function StepUpForm({ onConfirmed }: { onConfirmed: () => void }) {
  const [mode, setMode] = useState<'password' | 'code'>('password')
  const [value, setValue] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const label = mode === 'password' ? 'Password' : 'Authentication or recovery code'
  return (
    <form
      className="grid gap-4"
      onSubmit={async (event) => {
        event.preventDefault()
        setBusy(true)
        setProblem(null)
        // Recovery codes look like xxxxx-xxxxx; app codes are six digits.
        const body =
          mode === 'password'
            ? { password: value }
            : value.includes('-')
              ? { recoveryCode: value }
              : { code: value }
        const result = await runAction(() => stepUp(body))
        setBusy(false)
        if (result?.ok) onConfirmed()
        else if (result) setProblem(result.problem.message)
      }}
    >
      {problem ? (
        <Alert variant="destructive" role="alert">
          {problem}
        </Alert>
      ) : null}
      <div className="grid gap-2">
        <Label htmlFor="step-up-value">{label}</Label>
        <Input
          id="step-up-value"
          type={mode === 'password' ? 'password' : 'text'}
          autoComplete={mode === 'password' ? 'current-password' : 'one-time-code'}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          autoFocus
        />
      </div>
      <div className="flex flex-wrap justify-between gap-2">
        <Button
          variant="link"
          className="px-0"
          onClick={() => {
            setMode(mode === 'password' ? 'code' : 'password')
            setValue('')
          }}
        >
          {mode === 'password' ? 'Use an authentication code' : 'Use your password'}
        </Button>
        <Button type="submit" disabled={busy || value === ''}>
          Confirm
        </Button>
      </div>
    </form>
  )
}

/**
 * Runs an action (a rejected call becomes a problem to show); if it needs a step-up, asks
 * for it and runs it again.
 */
export function useStepUp(): Guard {
  return useContext(StepUpContext) ?? runAction
}
