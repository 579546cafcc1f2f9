import {
  apiServerEnv,
  appUrlEnv,
  authEnv,
  databaseEnv,
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

export type ApiEnv = z.infer<typeof apiEnvSchema>
