import {
  databaseEnv,
  emailEnv,
  observabilityEnv,
  redisEnv,
  runtimeEnv,
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

export type WorkerEnv = z.infer<typeof workerEnvSchema>
