import {
  appUrlEnv,
  authEnv,
  backupEnv,
  databaseEnv,
  emailEnv,
  migrationEnv,
  observabilityEnv,
  productionChecks,
  redisEnv,
  runtimeEnv,
  webhooksEnv,
  workerEnv,
  workerMetricsEnv,
} from '@repo/config'
import type { z } from 'zod'

/** Everything the worker reads from the environment; validated once at start-up. */
export const workerEnvSchema = runtimeEnv
  .extend(databaseEnv.shape)
  .extend(redisEnv.shape)
  .extend(workerEnv.shape)
  .extend(observabilityEnv.shape)
  .extend(workerMetricsEnv.shape)
  .extend(emailEnv.shape)
  .extend(appUrlEnv.shape)
  .extend(webhooksEnv.shape)
  // The nightly backup dumps as BACKUP_DATABASE_URL, else the owner (MIGRATION_DATABASE_URL).
  .extend(backupEnv.shape)
  .extend(migrationEnv.partial().shape)
  // Webhook signing secrets are sealed with the key of secrets at rest.
  .extend(authEnv.pick({ MFA_ENCRYPTION_KEY: true }).shape)
  .superRefine(productionChecks)
  .superRefine((env, ctx) => {
    if (env.BACKUP_DESTINATION && !env.BACKUP_DATABASE_URL && !env.MIGRATION_DATABASE_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['BACKUP_DATABASE_URL'],
        message:
          'is required with BACKUP_DESTINATION (or MIGRATION_DATABASE_URL): the login the nightly backup dumps as',
      })
    // No falling back to DATABASE_URL in production: that is the API's login, which may
    // not run the outbox relay.
    if (env.NODE_ENV === 'production' && !env.WORKER_DATABASE_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_DATABASE_URL'],
        message: "is required in production (the worker's own login)",
      })
  })

export type WorkerEnv = z.infer<typeof workerEnvSchema>
