import { invalidateUserSessions } from '@repo/auth'
import { withNoContext } from '@repo/db'
import { announceAccessChange } from './access-changes.ts'
import type { OperatorActor } from './actor.ts'
import { errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps } from './context.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A user by id or email address (as stored: lower-case), or 404. */
export async function findUser(deps: Pick<CoreDeps, 'db'>, idOrEmail: string) {
  const wanted = idOrEmail.trim()
  const user = await deps.db.user.findUnique({
    where: UUID.test(wanted) ? { id: wanted.toLowerCase() } : { email: wanted.toLowerCase() },
    select: { id: true, email: true, name: true },
  })
  if (!user) throw errors.notFound(`The user ${wanted}`)
  return user
}

/**
 * Signs a user out everywhere, every kind of session (the API's and the queue
 * dashboard's), for an operator: a stolen laptop, a compromised account. Their next
 * request with any old token is a 401. Revoking nothing (none left) records nothing.
 */
export async function revokeUserSessions(
  deps: Pick<CoreDeps, 'db' | 'accessChanges'>,
  actor: OperatorActor,
  input: { userId: string },
): Promise<{ revoked: number }> {
  // Sessions are account data (no row-level security) and the entry belongs to no
  // organization: no context to set.
  const result = await withNoContext(deps.db, async (tx) => {
    const revoked = await invalidateUserSessions(tx, input.userId)
    if (revoked > 0)
      await recordAudit(tx, {
        action: 'session.revoked_all',
        actorOperator: actor.operator,
        targetType: 'user',
        targetId: input.userId,
        metadata: { revoked },
      })
    return { revoked }
  })
  await announceAccessChange(deps, { userIds: [input.userId] })
  return result
}
