import {
  appUrlEnv,
  authEnv,
  databaseEnv,
  emailEnv,
  observabilityEnv,
  productionChecks,
  redisEnv,
  runtimeEnv,
  webhooksEnv,
  workerEnv,
} from '@repo/config'
import type { z } from 'zod'

/** Everything the worker reads from the environment; validated once at start-up. */
export const workerEnvSchema = runtimeEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(workerEnv.shape)
  .extend(observabilityEnv.shape)
  .extend(emailEnv.shape)
  .extend(appUrlEnv.shape)
  .extend(webhooksEnv.shape)
  // Webhook signing secrets are sealed with the key of secrets at rest.
  .extend(authEnv.pick({ MFA_ENCRYPTION_KEY: true }).shape)
  .superRefine(productionChecks)

export type WorkerEnv = z.infer<typeof workerEnvSchema>
