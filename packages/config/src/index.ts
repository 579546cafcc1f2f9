export { EnvError, loadEnvOrExit, parseEnv } from './load-env.ts'
export {
  apiServerEnv,
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
