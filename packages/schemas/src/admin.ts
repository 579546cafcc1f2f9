import { z } from 'zod'
import { listQuery } from './lists.ts'

/** Dead letters are listed newest first by offset: the shared page query, nothing more. */
export const listDeadLettersQuery = listQuery
export type ListDeadLettersQuery = z.input<typeof listDeadLettersQuery>

export const deadLetterParams = z.object({
  id: z
    .string()
    .max(300)
    // Ids of scheduled jobs contain ':' (repeat:<scheduler>:<time>).
    .regex(/^[\w.:-]+$/, 'must be a dead letter id'),
})
