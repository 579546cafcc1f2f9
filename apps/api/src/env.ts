import {
  apiMetricsEnv,
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
  .extend(apiMetricsEnv.shape)
  .extend(authEnv.shape)
  .extend(appUrlEnv.shape)
  .extend(oauthEnv.shape)
  .extend(webhooksEnv.shape)
  .superRefine(productionChecks)
  .superRefine((env, ctx) => {
    // Who may name the client address is a fact of the deployment, never a guess.
    if (env.NODE_ENV === 'production' && !env.TRUST_PROXY)
      ctx.addIssue({
        code: 'custom',
        path: ['TRUST_PROXY'],
        message:
          'is required in production: the proxies in front of the API (IPs/CIDRs), `loopback` when the web app calls it from the same host, or `false`',
      })
    // Links the API hands out (the queue dashboard's) must name where it is reached.
    if (env.NODE_ENV === 'production' && !env.API_PUBLIC_URL)
      ctx.addIssue({
        code: 'custom',
        path: ['API_PUBLIC_URL'],
        message: 'is required in production',
      })
  })

export type ApiEnv = z.infer<typeof apiEnvSchema>
