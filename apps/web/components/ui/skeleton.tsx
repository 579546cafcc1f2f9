import type { ComponentProps } from 'react'
import { cn } from '@/lib/utils.ts'

/** A placeholder of the same size as what is loading, so nothing moves when it arrives. */
export function Skeleton({ className, ...props }: ComponentProps<'div'>) {
  return <div className={cn('animate-pulse rounded-md bg-muted', className)} {...props} />
}
