import {
  apiServerEnv,
  databaseEnv,
  emailEnv,
  migrationEnv,
  redisEnv,
  webServerEnv,
} from '@repo/config'
import { loadDevEnvOrExit } from '@repo/config/dev'
import { z } from 'zod'

export const DEV_APPS = ['api', 'web', 'worker'] as const

/** What `pnpm dev` reads: the URLs it serves (with the dev defaults) and its own knobs. */
export const devEnvSchema = z.object({
  DATABASE_URL: databaseEnv.shape.DATABASE_URL,
  WORKER_DATABASE_URL: databaseEnv.shape.DATABASE_URL,
  MIGRATION_DATABASE_URL: migrationEnv.shape.MIGRATION_DATABASE_URL,
  REDIS_URL: redisEnv.shape.REDIS_URL,
  // The ready check, the banner and the web app need to know the API's port before it
  // starts: `pnpm dev` takes a fixed one (the API alone accepts 0).
  API_PORT: apiServerEnv.shape.API_PORT.refine((port) => port > 0, {
    error: 'pnpm dev needs a fixed port: set API_PORT to one that is free (not 0)',
  }),
  WEB_PORT: webServerEnv.shape.WEB_PORT,
  SMTP_URL: emailEnv.shape.SMTP_URL,
  /** auto: Docker Compose when an engine answers, else local binaries. */
  GROUNDWORK_DEV_SERVICES: z.enum(['auto', 'docker', 'local']).default('auto'),
  /** Where local Postgres and Redis keep their data (relative to the repository). */
  GROUNDWORK_DATA_DIR: z.string().min(1).default('.data'),
  /** Which apps to run, comma-separated. */
  GROUNDWORK_DEV_APPS: z
    .string()
    .default(DEV_APPS.join(','))
    .transform((value) =>
      value
        .split(',')
        .map((app) => app.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(DEV_APPS, { error: `must list apps among ${DEV_APPS.join(', ')}` }))
        .min(1, { error: `must name at least one of ${DEV_APPS.join(', ')}` }),
    ),
})

export type DevEnv = z.infer<typeof devEnvSchema>

/** .env, then the dev defaults, validated: prints what is wrong and exits 1 otherwise. */
export const loadDevStackEnv = (): DevEnv => loadDevEnvOrExit(devEnvSchema)
