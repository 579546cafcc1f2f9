// `pnpm ops <area> <command>`: operations on a running Groundwork (docs/runbooks/operations.md).
// Reads the environment, else .env, else the URLs `pnpm dev` serves (in production
// everything must be set, the operator's name included).
import { loadDevEnv } from '@repo/config/dev'
import { runOps } from './program.ts'

// `pnpm ops --help | head`: a reader that stops early is no failure.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    process.exit(process.exitCode ?? 0)
  })
loadDevEnv()
process.exitCode = await runOps(
  process.argv.slice(2),
  { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  process.env,
)
