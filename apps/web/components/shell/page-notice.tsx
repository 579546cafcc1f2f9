import type { ReactNode } from 'react'
import { Alert } from '@/components/ui/alert.tsx'

/**
 * A page that can only explain itself (a role that may not use it, a link that is
 * incomplete): still titled by its one h1, so it reads as that page and not as an error.
 */
export function PageNotice({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="grid gap-4">
      <h1 className="text-2xl font-semibold">{title}</h1>
      <Alert variant="destructive">{children}</Alert>
    </div>
  )
}
