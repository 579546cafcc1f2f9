import type { AuditEntry } from './audit.ts'
import type { ActingMember } from './members.ts'

/**
 * The platform's on-call operator, acting through `pnpm ops` (docs/decisions/025): a person
 * who is no user of any organization. `operator` is the name they declared (`--operator`,
 * OPS_OPERATOR, or their login outside production); the audit log keeps it.
 */
export interface OperatorActor {
  operator: string
}

/** Who changes something of an organization: one of its members, or an operator. */
export type OrganizationActor = ActingMember | (OperatorActor & { organizationId: string })

export const isOperator = (actor: object): actor is OperatorActor =>
  typeof (actor as Partial<OperatorActor>).operator === 'string'

/** The audit log's actor fields for `actor`: the user, or the operator's name. */
export function auditActor(
  actor: { userId?: string | undefined } | OperatorActor,
): Pick<AuditEntry, 'actorUserId' | 'actorOperator'> {
  return isOperator(actor) ? { actorOperator: actor.operator } : { actorUserId: actor.userId }
}
