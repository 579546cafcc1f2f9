'use server'

import { recoveryCodeSchema, totpCodeSchema } from '@repo/schemas'
import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import { z } from 'zod'
import { safeReturnPath } from '@/lib/return-path.ts'
import { defineAction } from '@/lib/server/action.ts'
import { callAnonymous } from '@/lib/server/api.ts'
import { writeSessionToken } from '@/lib/server/session.ts'
import { MFA_COOKIE } from './mfa-cookie.ts'

export const verifyMfa = defineAction(
  z.object({
    code: totpCodeSchema.optional(),
    recoveryCode: recoveryCodeSchema.optional(),
    next: z.string().max(2_000).optional(),
  }),
  async ({ code, recoveryCode, next }) => {
    const jar = await cookies()
    const mfaToken = jar.get(MFA_COOKIE)?.value
    if (!mfaToken)
      redirect(`/sign-in?${new URLSearchParams({ next: safeReturnPath(next), reason: 'expired' })}`)
    const result = await callAnonymous((api) =>
      api.POST('/v1/auth/mfa/verify', {
        body: { mfaToken, ...(code ? { code } : {}), ...(recoveryCode ? { recoveryCode } : {}) },
      }),
    )
    if (!result.ok) return result
    jar.delete(MFA_COOKIE)
    await writeSessionToken(result.data.token)
    redirect(safeReturnPath(next))
  },
)
