// `pnpm ops <area> <command>`: operations on a running Groundwork (docs/runbooks/operations.md).
// Reads the environment, else .env, else the URLs `pnpm dev` serves (in production
// everything must be set, the operator's name included).
import { loadDevEnv } from '@repo/config/dev'
import { runOps } from './program.ts'

loadDevEnv()
process.exitCode = await runOps(
  process.argv.slice(2),
  { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  process.env,
)
