import { z } from 'zod'

/**
 * An optional field a form shows as an empty input or "None" choice: the form sends "",
 * the API means null. Wraps the API's own field schema, so the rule stays the API's.
 */
export function blankAsNull<Schema extends z.ZodType>(schema: Schema) {
  return z.preprocess((value) => (value === '' ? null : value), schema)
}

/** A number typed or picked in a form arrives as text; empty means "not given". */
export function numberFromText<Schema extends z.ZodType>(schema: Schema) {
  return z.preprocess(
    (value) => (value === '' ? undefined : typeof value === 'string' ? Number(value) : value),
    schema,
  )
}
