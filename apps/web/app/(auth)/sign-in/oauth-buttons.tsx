'use client'

import { useState } from 'react'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import { startOAuth } from '../oauth-actions.ts'

/** One button per provider the API has configured; none when there are none. */
export function OAuthButtons({
  providers,
  next,
}: {
  providers: { provider: 'github' | 'google'; name: string }[]
  next: string
}) {
  const [problem, setProblem] = useState<string | null>(null)
  if (providers.length === 0) return null
  return (
    <div className="grid gap-2">
      {problem ? (
        <Alert role="alert" variant="destructive">
          {problem}
        </Alert>
      ) : null}
      {providers.map(({ provider, name }) => (
        <Button
          key={provider}
          variant="outline"
          onClick={async () => {
            setProblem(null)
            const result = await startOAuth({ provider, next })
            if (result && !result.ok) setProblem(result.problem.message)
          }}
        >
          Continue with {name}
        </Button>
      ))}
      <p className="text-center text-xs text-muted-foreground">or with your email</p>
    </div>
  )
}
