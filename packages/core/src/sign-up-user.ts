import { randomUUID } from 'node:crypto'
import { createSession, hashPassword, passwordProblem } from '@repo/auth'
import { Prisma, withUser } from '@repo/db'
import { errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'

export interface SignUpInput {
  email: string
  password: string
  name: string
}

/**
 * Creates an account and signs it in. The email is stored lower-cased; two concurrent
 * sign-ups with one email end in one account (the unique index decides) and one 409.
 */
export async function signUpUser(deps: CoreDeps, input: SignUpInput, meta: RequestMeta = {}) {
  const email = input.email.trim().toLowerCase()
  const problem = passwordProblem(input.password, { email })
  if (problem) throw errors.invalid('body.password', `Password ${problem}.`)
  const passwordHash = await hashPassword(input.password)
  try {
    const userId = randomUUID()
    // Account, audit entry and first session commit together, or not at all.
    return await withUser(deps.db, userId, async (tx) => {
      const user = await tx.user.create({
        data: { id: userId, email, name: input.name.trim(), passwordHash },
      })
      await recordAudit(tx, {
        action: 'user.signed_up',
        actorUserId: user.id,
        targetType: 'user',
        targetId: user.id,
        ipAddress: meta.ipAddress,
      })
      const { token, session } = await createSession(tx, deps.sessionPolicy, user.id, meta)
      return { user, token, session }
    })
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw errors.conflict(
        'email_taken',
        'An account with this email already exists. Sign in instead.',
      )
    }
    throw error
  }
}
