import {
  apiServerEnv,
  appUrlEnv,
  authEnv,
  databaseEnv,
  oauthEnv,
  observabilityEnv,
  redisEnv,
  runtimeEnv,
} from '@repo/config'
import type { z } from 'zod'

/** Everything the API reads from the environment; validated once at start-up. */
export const apiEnvSchema = runtimeEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(apiServerEnv.shape)
  .extend(observabilityEnv.shape)
  .extend(authEnv.shape)
  .extend(appUrlEnv.shape)
  .extend(oauthEnv.shape)
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.MFA_ENCRYPTION_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['MFA_ENCRYPTION_KEY'],
        message: 'is required in production',
      })
    }
  })

export type ApiEnv = z.infer<typeof apiEnvSchema>
