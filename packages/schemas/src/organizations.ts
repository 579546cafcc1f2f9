import { z } from 'zod'
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
