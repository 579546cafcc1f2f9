import { randomUUID } from 'node:crypto'
import { createSession, hashPassword, passwordProblem } from '@repo/auth'
import { Prisma, withUser } from '@repo/db'
import { errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { sendEmailVerification } from './verify-email.ts'

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
  let created: Awaited<ReturnType<typeof createAccount>>
  try {
    created = await createAccount(deps, { email, name: input.name, passwordHash }, meta)
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw errors.conflict(
        'email_taken',
        'An account with this email already exists. Sign in instead.',
      )
    }
    throw error
  }
  // Its own transaction, after the account's: the token and its email (the outbox) commit
  // together, and a failure here leaves an account whose owner can ask for another link.
  await sendEmailVerification(deps, { user: created.user }, meta).catch((err: unknown) =>
    deps.logger.warn({ err, userId: created.user.id }, 'could not record the verification email'),
  )
  return created
}

async function createAccount(
  deps: CoreDeps,
  input: { email: string; name: string; passwordHash: string },
  meta: RequestMeta,
) {
  const userId = randomUUID()
  // Account, audit entry and first session commit together, or not at all.
  return withUser(deps.db, userId, async (tx) => {
    const user = await tx.user.create({
      data: {
        id: userId,
        email: input.email,
        name: input.name.trim(),
        passwordHash: input.passwordHash,
      },
    })
    await recordAudit(tx, {
      action: 'user.signed_up',
      actorUserId: user.id,
      targetType: 'user',
      targetId: user.id,
      ipAddress: meta.ipAddress,
    })
    const { token, session } = await createSession(tx, deps.sessionPolicy, user.id, meta)
    return { user: { ...user, mfaEnabled: false }, token, session }
  })
}
