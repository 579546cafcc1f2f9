'use server'

import { stepUpInput } from '@repo/schemas'
import { defineAction } from '@/lib/server/action.ts'
import { callApi } from '@/lib/server/api.ts'

/** Proves presence again (code, recovery code or password) before a sensitive action. */
export const stepUp = defineAction(stepUpInput, async (input) =>
  callApi((api) => api.POST('/v1/auth/mfa/step-up', { body: input })),
)
