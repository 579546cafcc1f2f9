import type { ReactNode } from 'react'
import { Card } from '@/components/ui/card.tsx'

/** What a list shows when it has nothing: what is missing, and what to do about it. */
export function EmptyState({ title, hint }: { title: ReactNode; hint?: ReactNode }) {
  return (
    <Card className="px-6 py-10 text-center">
      <p className="font-medium">{title}</p>
      {hint ? <p className="mt-1 text-sm text-muted-foreground">{hint}</p> : null}
    </Card>
  )
}
