'use client'

import { useState } from 'react'
import { DeleteButton } from '@/components/forms/delete-button.tsx'
import { SecretReveal } from '@/components/forms/secret-reveal.tsx'
import { useStepUp } from '@/components/forms/step-up.tsx'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import { deleteEndpoint, rotateSecret } from '../actions.ts'

export function EndpointDanger({ orgId, endpointId }: { orgId: string; endpointId: string }) {
  const guard = useStepUp()
  const [secret, setSecret] = useState<string | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  const ids = { orgId, endpointId }
  return (
    <div className="grid gap-4">
      {secret ? <SecretReveal label="New signing secret" secret={secret} /> : null}
      {problem ? (
        <Alert variant="destructive" role="alert">
          {problem}
        </Alert>
      ) : null}
      <div className="flex flex-wrap gap-2">
        <Button
          variant="outline"
          onClick={async () => {
            setProblem(null)
            const result = await guard(() => rotateSecret(ids))
            if (result?.ok) setSecret(result.data.secret)
            else if (result) setProblem(result.problem.message)
          }}
        >
          Rotate secret
        </Button>
        <DeleteButton
          label="Delete endpoint"
          title="Delete this endpoint?"
          description="Deliveries stop and its delivery log is deleted. This cannot be undone."
          action={() => deleteEndpoint(ids)}
        />
      </div>
    </div>
  )
}
