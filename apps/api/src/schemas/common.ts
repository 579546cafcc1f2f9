import type { Account } from '@repo/core'
import { roleSchema } from '@repo/schemas'
import { z } from 'zod'
import { problemSchema } from '../lib/problem.ts'

// Input schemas (bodies, queries, params) live in @repo/schemas, shared with the web app;
// what only the API answers is here.
export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    emailVerified: z.boolean(),
    mfaEnabled: z.boolean().describe('A confirmed second factor (TOTP) guards sign-in.'),
    hasPassword: z
      .boolean()
      .describe('False for an account that signs in only through OAuth providers.'),
    platformAdmin: z
      .boolean()
      .describe('An operator of the platform itself (queues, dead letters).'),
  })
  .meta({ id: 'User' })

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

export function toUser(
  user: Pick<
    Account,
    'id' | 'email' | 'name' | 'emailVerifiedAt' | 'passwordHash' | 'platformAdmin' | 'mfaEnabled'
  >,
) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    emailVerified: user.emailVerifiedAt !== null,
    mfaEnabled: user.mfaEnabled,
    hasPassword: user.passwordHash !== null,
    platformAdmin: user.platformAdmin,
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

/** A page of a list: `{ data, nextCursor }` (null on the last page). */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() })
