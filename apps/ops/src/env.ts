import {
  apiServerEnv,
  authEnv,
  databaseEnv,
  EnvError,
  migrationEnv,
  parseEnv,
  redisEnv,
  runtimeEnv,
  secretsKey,
  webhooksEnv,
  workerEnv,
} from '@repo/config'
import { z } from 'zod'
import { EXIT, OpsError } from './errors.ts'

type Source = Record<string, string | undefined>

/**
 * What `pnpm ops` reads from the environment, validated per need: a command asks only for
 * what it uses (maintenance mode needs Redis, not the secrets key), and a missing piece
 * names itself (exit 6). Outside production, `pnpm ops` reads .env and falls back to the
 * dev stack's URLs like the other commands (loadDevEnv, in cli.ts).
 */
export const opsEnv = {
  runtime: runtimeEnv.pick({ NODE_ENV: true }).extend({
    /** Who is acting, when --operator is not given (required in production). */
    OPS_OPERATOR: z.string().optional(),
  }),
  /**
   * The worker's login: the application's rights plus the cross-tenant functions an
   * operator needs (which organization an id belongs to). Outside production it falls
   * back to DATABASE_URL, as the worker does.
   */
  database: databaseEnv
    .partial({ DATABASE_URL: true })
    .extend(workerEnv.pick({ WORKER_DATABASE_URL: true }).shape)
    .extend(runtimeEnv.pick({ NODE_ENV: true }).shape)
    .superRefine((env, ctx) => {
      if (env.WORKER_DATABASE_URL) return
      if (env.NODE_ENV === 'production' || !env.DATABASE_URL)
        ctx.addIssue({
          code: 'custom',
          path: ['WORKER_DATABASE_URL'],
          message: "is required (the worker's login, which the operations CLI connects as)",
        })
    })
    .transform((env) => ({
      ...env,
      DATABASE_URL: (env.WORKER_DATABASE_URL ?? env.DATABASE_URL) as string,
      // A command holds one connection at a time.
      DATABASE_POOL_MAX: 2,
    })),
  redis: redisEnv,
  migrations: migrationEnv,
  webhooks: webhooksEnv
    .pick({ WEBHOOK_SECRET_GRACE_HOURS: true })
    .extend(authEnv.pick({ MFA_ENCRYPTION_KEY: true }).shape)
    .extend(runtimeEnv.pick({ NODE_ENV: true }).shape),
  limits: apiServerEnv.pick({ RATE_LIMIT_IPV6_PREFIX: true }),
  maintenance: apiServerEnv.pick({ MAINTENANCE_REFRESH_MS: true }),
}

/** Parses one part of the environment, or fails with exit 6 naming every problem. */
export function readEnv<T extends z.ZodType>(schema: T, source: Source): z.infer<T> {
  try {
    return parseEnv(schema, source)
  } catch (error) {
    if (error instanceof EnvError)
      throw new OpsError(
        EXIT.config,
        `${error.message}\nSee .env.example for every variable, and docs/runbooks/operations.md.`,
      )
    throw error
  }
}

/** The key that seals webhook signing secrets (MFA_ENCRYPTION_KEY), or exit 6. */
export function readSecretsKey(source: Source): Buffer {
  const env = readEnv(opsEnv.webhooks, source)
  try {
    return secretsKey(env)
  } catch (error) {
    throw new OpsError(EXIT.config, (error as Error).message)
  }
}
