import { AppError } from './app-error.ts'

/** `?limit=&cursor=` as every list takes it; limit is bounded by the route schema. */
export interface PageRequest {
  limit: number
  cursor?: string | undefined
}

export interface Page<T> {
  data: T[]
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null
}

type Keyed = { createdAt: Date; id: string }

const invalidCursor = () =>
  new AppError({
    code: 'invalid_cursor',
    status: 400,
    userMessage: 'The cursor is not valid; start again without one.',
    fields: [{ field: 'querystring.cursor', message: 'is not valid' }],
  })

/** Opaque to clients: base64url of the last row's (createdAt, id), the stable sort key. */
export function encodeCursor(row: Keyed): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url')
}

function decodeCursor(cursor: string): Keyed {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      string,
      string,
    ]
    const date = new Date(createdAt)
    if (Number.isNaN(date.getTime()) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id))
      throw new Error('shape')
    return { createdAt: date, id }
  } catch {
    throw invalidCursor()
  }
}

/**
 * Prisma arguments for one page in a stable order (createdAt, then id, so equal
 * timestamps never skip or repeat rows): one row more than asked, to know if more follow.
 */
export function pageQuery(page: PageRequest, direction: 'asc' | 'desc') {
  const after = page.cursor ? decodeCursor(page.cursor) : undefined
  const beyond = direction === 'asc' ? 'gt' : 'lt'
  return {
    take: page.limit + 1,
    orderBy: [{ createdAt: direction }, { id: direction }],
    /** Spread into the query's own `where` (it uses only `OR`). */
    where: after
      ? {
          OR: [
            { createdAt: { [beyond]: after.createdAt } },
            { createdAt: after.createdAt, id: { [beyond]: after.id } },
          ],
        }
      : {},
  }
}

export function toPage<T extends Keyed>(rows: T[], page: PageRequest): Page<T> {
  const data = rows.slice(0, page.limit)
  const last = data.at(-1)
  return { data, nextCursor: rows.length > page.limit && last ? encodeCursor(last) : null }
}
