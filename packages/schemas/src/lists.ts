import { z } from 'zod'

/** `?limit=&cursor=` for every list: 20 by default, at most 100. */
export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(2_000).optional(),
  })
  .strict()
export type ListQuery = z.input<typeof listQuery>

/** A `?sort=` value: a field, or the field prefixed `-` for descending. */
export type SortValue<Field extends string> = Field | `-${Field}`

/** `?sort=` over the given fields, each ascending or (prefixed `-`) descending. */
export const sortSchema = <const Field extends string>(
  fields: readonly Field[],
  fallback: SortValue<Field>,
) => {
  const values = fields.flatMap((field) => [field, `-${field}` as const])
  const sort = z.enum(values as [SortValue<Field>, ...SortValue<Field>[]])
  return (
    sort
      // fallback is one of the values by its type; zod's default() cannot see it for a
      // generic enum.
      .default(fallback as never)
      .describe(`Sort field; prefix with - for descending. Default ${fallback}.`)
  )
}
