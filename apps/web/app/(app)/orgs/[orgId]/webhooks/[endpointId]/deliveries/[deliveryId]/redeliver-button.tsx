'use client'

import { useState } from 'react'
import { useStepUp } from '@/components/forms/step-up.tsx'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import { redeliver } from '../../../actions.ts'

export function RedeliverButton({
  ids,
}: {
  ids: { orgId: string; endpointId: string; deliveryId: string }
}) {
  const guard = useStepUp()
  const [message, setMessage] = useState<{ text: string; ok: boolean } | null>(null)
  return (
    <div className="grid justify-items-start gap-2">
      <Button
        variant="outline"
        onClick={async () => {
          const result = await guard(() => redeliver(ids))
          if (result)
            setMessage(
              result.ok
                ? { text: 'Queued for delivery again.', ok: true }
                : { text: result.problem.message, ok: false },
            )
        }}
      >
        Redeliver
      </Button>
      {message ? (
        <Alert
          role={message.ok ? 'status' : 'alert'}
          variant={message.ok ? 'success' : 'destructive'}
        >
          {message.text}
        </Alert>
      ) : null}
    </div>
  )
}
