'use client'

import { useState } from 'react'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'

/**
 * After a 412: someone saved the same thing since this form was loaded. Nothing typed is
 * lost; the user chooses to save theirs over it or to load the other version.
 */
export function ConflictChoice({
  what,
  onKeepMine,
  onTakeTheirs,
}: {
  what: string
  onKeepMine: () => Promise<void>
  onTakeTheirs: () => Promise<void>
}) {
  const [busy, setBusy] = useState(false)
  const run = (choice: () => Promise<void>) => async () => {
    setBusy(true)
    try {
      await choice()
    } finally {
      setBusy(false)
    }
  }
  return (
    <Alert variant="destructive" role="alert" className="grid gap-3">
      <p>
        Someone else changed this {what} after you opened it. Your changes are still in the form and
        have not been saved.
      </p>
      <div className="flex flex-wrap gap-2">
        <Button size="sm" onClick={run(onKeepMine)} disabled={busy}>
          Save mine over theirs
        </Button>
        <Button size="sm" variant="outline" onClick={run(onTakeTheirs)} disabled={busy}>
          Discard mine and load theirs
        </Button>
      </div>
    </Alert>
  )
}
