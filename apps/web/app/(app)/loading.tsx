import { Skeleton } from '@/components/ui/skeleton.tsx'

/** While a signed-in page loads: its outline, so nothing jumps when the data arrives. */
export default function Loading() {
  return (
    <div className="grid gap-4" aria-busy="true">
      <span className="sr-only" role="status">
        Loading…
      </span>
      <Skeleton className="h-8 w-48" />
      <Skeleton className="h-10 w-full" />
      <Skeleton className="h-64 w-full" />
    </div>
  )
}
