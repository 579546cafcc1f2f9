export { EnvError, loadEnvOrExit, parseEnv } from './load-env.ts'
export {
  apiServerEnv,
  appUrlEnv,
  authEnv,
  databaseEnv,
  devDefaults,
  emailEnv,
  loggingEnv,
  oauthEnv,
  observabilityEnv,
  posthogEnv,
  redisEnv,
  runtimeEnv,
  sentryEnv,
  webServerEnv,
  workerEnv,
} from './schemas.ts'
