import { z } from 'zod'
import { listQuery } from './lists.ts'
import { emailSchema, idSchema, nameSchema, tokenSchema } from './primitives.ts'

/** Highest first, as the database declares them (membership_role). */
export const MEMBERSHIP_ROLES = ['owner', 'admin', 'member'] as const
export const roleSchema = z.enum(MEMBERSHIP_ROLES)
export type Role = z.output<typeof roleSchema>

export const orgParams = z.object({ orgId: idSchema })

export const createOrganizationInput = z.object({ name: nameSchema }).strict()
export type CreateOrganizationInput = z.input<typeof createOrganizationInput>

export const renameOrganizationInput = createOrganizationInput
export type RenameOrganizationInput = CreateOrganizationInput

export const memberParams = z.object({ orgId: idSchema, userId: idSchema })

export const changeRoleInput = z.object({ role: roleSchema }).strict()
export type ChangeRoleInput = z.input<typeof changeRoleInput>

export const invitationParams = z.object({ orgId: idSchema, invitationId: idSchema })

export const inviteMemberInput = z.object({ email: emailSchema, role: roleSchema }).strict()
export type InviteMemberInput = z.input<typeof inviteMemberInput>

/** The token from an invitation email. */
export const acceptInvitationInput = z.object({ token: tokenSchema }).strict()
export type AcceptInvitationInput = z.input<typeof acceptInvitationInput>

// With an offset or Z: a time without one would be read in the server's time zone. Years
// 1 to 9999 once in UTC, as in cursors: Postgres refuses an earlier one as Prisma sends it,
// with a 400 that names no field.
const instantSchema = z.iso.datetime({ offset: true }).refine((value) => {
  const year = new Date(value).getUTCFullYear()
  return year >= 1 && year <= 9999
}, 'must be between the years 1 and 9999 (UTC)')

export const listAuditLogQuery = listQuery
  .extend({
    action: z
      .string()
      .max(64)
      .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$/, 'must be an action, or a prefix ending in .')
      .optional()
      .describe(
        'An exact action (`member.role_changed`), or every action under a prefix ending in `.` (`member.`, `invitation.`, `api_key.`).',
      ),
    actorUserId: idSchema.optional().describe('Only what this user did.'),
    targetType: z
      .string()
      .max(32)
      .regex(/^[a-z][a-z_]*$/, 'must be a target type')
      .optional()
      .describe(
        '`user`, `invitation`, `api_key`, `project`, `organization`, `webhook_endpoint`...',
      ),
    since: instantSchema
      .optional()
      .describe('Entries at or after this instant (ISO 8601, with Z or an offset).'),
    until: instantSchema
      .optional()
      .describe('Entries before this instant (exclusive: consecutive windows never overlap).'),
  })
  .refine((q) => !q.since || !q.until || new Date(q.since) <= new Date(q.until), {
    path: ['until'],
    message: 'must not be before since',
  })
export type ListAuditLogQuery = z.input<typeof listAuditLogQuery>
