import { z } from 'zod'

/** NIST SP 800-63B: a floor on length, a generous ceiling, no composition rules. */
export const PASSWORD_MIN_LENGTH = 10
export const PASSWORD_MAX_LENGTH = 128

export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ error: 'must be an email address' }))
  .meta({ example: 'ada@example.com' })

// The length policy is @repo/auth's (passwordProblem); the schema only bounds the work an
// input can cause.
export const passwordSchema = z
  .string()
  .min(1, 'is required')
  .max(PASSWORD_MAX_LENGTH * 4)

// Control characters (NUL breaks Postgres text) are refused; invisible-only text too.
/** A one-line name or title, trimmed and bounded. */
export const titleSchema = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'is required')
    .max(max)
    .refine(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      (value) => !/[\u0000-\u001f\u007f]/.test(value),
      'must not contain control characters',
    )
    .refine(
      (value) => value.replace(/[\u200b-\u200d\u2060\ufeff\s]/g, '').length > 0,
      'must contain visible characters',
    )

export const nameSchema = titleSchema(100)

/**
 * Longer free text (descriptions): trimmed and bounded; line breaks and tabs are allowed,
 * other control characters are not.
 */
export const textSchema = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      (value) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value),
      'must not contain control characters other than line breaks and tabs',
    )

export const idSchema = z.uuid({ error: 'must be a UUID' })

/** A single-use token from an emailed link or a previous answer (opaque to clients). */
export const tokenSchema = z.string().min(1).max(200)

/** A pick from a fixed set (scopes, events): at least one, and no more than the set has. */
export const someOf = <Choice extends z.ZodEnum>(choice: Choice) =>
  z.array(choice).min(1).max(choice.options.length)
