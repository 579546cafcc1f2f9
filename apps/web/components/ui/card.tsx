import type { ComponentProps } from 'react'
import { cn } from '@/lib/utils.ts'

export function Card({ className, ...props }: ComponentProps<'section'>) {
  // min-w-0: in a grid or flex column a card is otherwise as wide as its widest line (a
  // payload, a table), and a phone scrolls the whole page sideways instead of that part.
  return (
    <section
      className={cn('min-w-0 rounded-xl border bg-card text-card-foreground shadow-sm', className)}
      {...props}
    />
  )
}

export function CardHeader({ className, ...props }: ComponentProps<'div'>) {
  return <div className={cn('flex flex-col gap-1.5 p-6', className)} {...props} />
}

export function CardTitle({ className, ...props }: ComponentProps<'h2'>) {
  return <h2 className={cn('text-lg font-semibold leading-tight', className)} {...props} />
}

export function CardDescription({ className, ...props }: ComponentProps<'p'>) {
  return <p className={cn('text-sm text-muted-foreground', className)} {...props} />
}

export function CardContent({ className, ...props }: ComponentProps<'div'>) {
  return <div className={cn('p-6 pt-0', className)} {...props} />
}
