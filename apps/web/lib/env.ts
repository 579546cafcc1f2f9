import { loadEnvOrExit, runtimeEnv, sentryEnv, webServerEnv } from '@repo/config'
import type { z } from 'zod'

/** What the web server reads from the environment; validated once when it starts. */
export const webEnvSchema = runtimeEnv.extend(webServerEnv.shape).extend(sentryEnv.shape)

export type WebEnv = z.infer<typeof webEnvSchema>

export function loadWebEnv(): WebEnv {
  return loadEnvOrExit(webEnvSchema)
}
