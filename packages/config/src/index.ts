export { EnvError, loadEnvOrExit, parseEnv } from './load-env.ts'
export {
  apiServerEnv,
  authEnv,
  databaseEnv,
  devDefaults,
  loggingEnv,
  observabilityEnv,
  posthogEnv,
  redisEnv,
  runtimeEnv,
  sentryEnv,
  webServerEnv,
  workerEnv,
} from './schemas.ts'
