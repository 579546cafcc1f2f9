'use client'

import { useState } from 'react'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { useStepUp } from '@/components/forms/step-up.tsx'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import {
  purgeAll,
  purgeDeadLetter,
  queueDashboardLink,
  replayAll,
  replayDeadLetter,
} from './actions.ts'

export function QueueDashboardButton() {
  const guard = useStepUp()
  const [problem, setProblem] = useState<string | null>(null)
  return (
    <div className="grid justify-items-end gap-1">
      <Button
        variant="outline"
        onClick={async () => {
          setProblem(null)
          const result = await guard(() => queueDashboardLink({}))
          if (result?.ok) window.location.assign(result.data.url)
          else if (result) setProblem(result.problem.message)
        }}
      >
        Open the queue dashboard
      </Button>
      {problem ? (
        <p role="alert" className="text-sm text-destructive">
          {problem}
        </p>
      ) : null}
    </div>
  )
}

export function DeadLetterBulk() {
  const guard = useStepUp()
  const [message, setMessage] = useState<string | null>(null)
  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button
        variant="outline"
        onClick={async () => {
          const result = await guard(() => replayAll({}))
          if (result)
            setMessage(result.ok ? 'Every dead letter is queued again.' : result.problem.message)
        }}
      >
        Replay all
      </Button>
      <DeleteButton
        label="Purge all"
        title="Purge every dead letter?"
        description="Their jobs are gone for good; nothing will run them."
        action={() => purgeAll({})}
      />
      {message ? <Alert role="status">{message}</Alert> : null}
    </div>
  )
}

export function DeadLetterActions({ id }: { id: string }) {
  const guard = useStepUp()
  const [problem, setProblem] = useState<string | null>(null)
  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button
        onClick={async () => {
          const result = await guard(() => replayDeadLetter({ id }))
          if (result && !result.ok) setProblem(result.problem.message)
        }}
      >
        Replay
      </Button>
      <DeleteButton
        label="Purge"
        title="Purge this dead letter?"
        description="Its job is gone for good; nothing will run it."
        action={() => purgeDeadLetter({ id })}
      />
      {problem ? (
        <p role="alert" className="text-sm text-destructive">
          {problem}
        </p>
      ) : null}
    </div>
  )
}
