import { PASSWORD_MAX_LENGTH } from '@repo/auth'
import { z } from 'zod'
import { problemSchema } from '../lib/problem.ts'

/** Shared request and response schemas; every route composes these. */
export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ error: 'must be an email address' }))
  .meta({ example: 'ada@example.com' })

// Length policy lives in @repo/auth; the schema only bounds the work an input can cause.
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

export const idSchema = z.uuid({ error: 'must be a UUID' })

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

/** `?sort=` over the given fields, each ascending or (prefixed `-`) descending. */
export const sortSchema = (fields: readonly string[], fallback: string) =>
  z
    .enum(fields.flatMap((field) => [field, `-${field}`]) as [string, ...string[]])
    .default(fallback)
    .describe(`Sort field; prefix with - for descending. Default ${fallback}.`)

export const userSchema = z
  .object({ id: z.string(), email: z.string(), name: z.string(), emailVerified: z.boolean() })
  .meta({ id: 'User' })

export const roleSchema = z.enum(['owner', 'admin', 'member'])

export const organizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: roleSchema,
    createdAt: z.iso.datetime(),
    deletionRequestedAt: z.iso
      .datetime()
      .nullable()
      .describe(
        'Set while the organization is being deleted: everything in it is closed, and it disappears once emptied.',
      ),
  })
  .meta({ id: 'Organization' })

/** Problem answers every authenticated route may give. */
export const authProblems = { 400: problemSchema, 401: problemSchema }
/** 409 `organization_deleting`: the organization is being deleted. */
export const tenantProblems = {
  ...authProblems,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
}
/** A change to a versioned resource may also fail its If-Match precondition. */
export const versionedProblems = { ...tenantProblems, 412: problemSchema, 428: problemSchema }

export function toUser(user: {
  id: string
  email: string
  name: string
  emailVerifiedAt: Date | null
}) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    emailVerified: user.emailVerifiedAt !== null,
  }
}

export function toOrganization(org: {
  id: string
  name: string
  role: 'owner' | 'admin' | 'member'
  createdAt: Date
  deletionRequestedAt: Date | null
}) {
  return {
    id: org.id,
    name: org.name,
    role: org.role,
    createdAt: org.createdAt.toISOString(),
    deletionRequestedAt: org.deletionRequestedAt?.toISOString() ?? null,
  }
}

/** `?limit=&cursor=` for every list: 20 by default, at most 100. */
export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(2_000).optional(),
  })
  .strict()

/** A page of a list: `{ data, nextCursor }` (null on the last page). */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() })
