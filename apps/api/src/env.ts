import {
  apiServerEnv,
  appUrlEnv,
  authEnv,
  databaseEnv,
  oauthEnv,
  observabilityEnv,
  productionChecks,
  redisEnv,
  runtimeEnv,
  webhooksEnv,
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
  .extend(webhooksEnv.shape)
  .superRefine(productionChecks)

export type ApiEnv = z.infer<typeof apiEnvSchema>
