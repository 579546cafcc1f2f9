import {
  appUrlEnv,
  loadEnvOrExit,
  loggingEnv,
  posthogEnv,
  runtimeEnv,
  sentryEnv,
  tracingEnv,
  webServerEnv,
} from '@repo/config'
import type { z } from 'zod'

/** What the web server reads from the environment; validated once when it starts. */
export const webEnvSchema = runtimeEnv
  .extend(webServerEnv.shape)
  .extend(appUrlEnv.shape)
  .extend(sentryEnv.shape)
  .extend(posthogEnv.shape)
  .extend(loggingEnv.shape)
  .extend(tracingEnv.shape)

export type WebEnv = z.infer<typeof webEnvSchema>

let loaded: WebEnv | undefined

/** The validated environment; the first call validates it and exits on what is wrong. */
export function loadWebEnv(): WebEnv {
  loaded ??= loadEnvOrExit(webEnvSchema)
  return loaded
}
