'use client'

import { useState } from 'react'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import {
  AlertDialog,
  AlertDialogClose,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogTitle,
  AlertDialogTrigger,
} from '@/components/ui/dialog.tsx'
import type { Result } from '@/lib/problem.ts'
import { useStepUp } from './step-up.tsx'

/**
 * A destructive action behind a confirmation dialog. With `confirmText`, the user types
 * it (the organization's name) before the button works: deleting everything takes intent.
 */
export function DeleteButton({
  label,
  title,
  description,
  confirmText,
  action,
  onDone,
}: {
  label: string
  title: string
  description: string
  confirmText?: string
  action: () => Promise<Result<unknown> | undefined>
  onDone?: () => void
}) {
  const [typed, setTyped] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [open, setOpen] = useState(false)
  const guard = useStepUp()
  const ready = confirmText === undefined || typed === confirmText
  async function confirm() {
    setBusy(true)
    setProblem(null)
    try {
      const result = await guard(action)
      if (result && !result.ok) setProblem(result.problem.message)
      else {
        // Done: the dialog goes, even where the row stays a while (a member being removed).
        setOpen(false)
        onDone?.()
      }
    } finally {
      setBusy(false)
    }
  }
  return (
    <AlertDialog open={open} onOpenChange={setOpen}>
      <AlertDialogTrigger render={<Button variant="destructive" />}>{label}</AlertDialogTrigger>
      <AlertDialogContent>
        <AlertDialogTitle>{title}</AlertDialogTitle>
        <AlertDialogDescription>{description}</AlertDialogDescription>
        {confirmText !== undefined ? (
          <div className="grid gap-2">
            <label htmlFor="confirm-text" className="text-sm">
              Type <strong className="font-mono">{confirmText}</strong> to confirm
            </label>
            <input
              id="confirm-text"
              autoComplete="off"
              className="h-10 rounded-md border border-input bg-background px-3"
              value={typed}
              onChange={(event) => setTyped(event.target.value)}
            />
          </div>
        ) : null}
        {problem ? (
          <Alert variant="destructive" role="alert">
            {problem}
          </Alert>
        ) : null}
        <div className="flex justify-end gap-2">
          <AlertDialogClose render={<Button variant="outline" />}>Cancel</AlertDialogClose>
          <Button variant="destructive" disabled={!ready || busy} onClick={confirm}>
            {label}
          </Button>
        </div>
      </AlertDialogContent>
    </AlertDialog>
  )
}
