import Link from 'next/link'
import { buttonVariants } from '@/components/ui/button.tsx'
import { withQuery } from '@/lib/list-query.ts'

/** Cursor pagination: onwards by the API's cursor, back to the start with the same filters. */
export function Pagination({
  path,
  state,
  nextCursor,
}: {
  path: string
  state: Record<string, unknown>
  nextCursor: string | null
}) {
  const onLaterPage = state.cursor !== undefined
  if (!nextCursor && !onLaterPage) return null
  return (
    <nav aria-label="Pagination" className="flex items-center justify-between gap-3">
      {onLaterPage ? (
        <Link
          href={withQuery(path, state, { cursor: undefined })}
          className={buttonVariants({ variant: 'outline' })}
        >
          First page
        </Link>
      ) : (
        <span />
      )}
      {nextCursor ? (
        <Link
          href={withQuery(path, state, { cursor: nextCursor })}
          className={buttonVariants({ variant: 'outline' })}
        >
          Next page
        </Link>
      ) : null}
    </nav>
  )
}
