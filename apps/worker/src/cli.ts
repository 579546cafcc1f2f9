// `pnpm jobs dlq <list | show <id> | replay <id> | replay --all | purge <id> | purge --all>`:
// the dead-letter queue from a terminal. Reads REDIS_URL from the environment, else .env,
// else the URL `pnpm dev` serves (in production it must be set).
import { redisEnv } from '@repo/config'
import { loadDevEnvOrExit } from '@repo/config/dev'
import {
  getDeadLetter,
  listDeadLetters,
  openDeadLetters,
  openQueues,
  purgeDeadLetters,
  replayAllDeadLetters,
  replayDeadLetter,
} from '@repo/jobs'
import { Redis } from 'ioredis'

const USAGE = `usage: pnpm jobs dlq list [--offset N] [--limit N]
       pnpm jobs dlq show <id>
       pnpm jobs dlq replay <id> | --all
       pnpm jobs dlq purge <id> | --all`

const env = loadDevEnvOrExit(redisEnv)

async function main(args: string[]): Promise<number> {
  const [area, command, target, ...rest] = args
  if (area !== 'dlq' || !command) {
    console.error(USAGE)
    return 2
  }
  // Fail fast: an operator wants an error, not a command waiting for Redis forever.
  const connection = new Redis(env.REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: null,
    retryStrategy: () => null,
  })
  connection.on('error', () => {}) // reported below, once
  try {
    await connection.connect()
  } catch (error) {
    const { hostname, port } = new URL(env.REDIS_URL)
    throw new Error(
      `cannot reach Redis at ${hostname}:${port || 6379}: ${(error as Error).message}. ` +
        'Is `pnpm dev` running? Without REDIS_URL (in the shell or .env) this uses its Redis.',
    )
  }
  const deadLetters = openDeadLetters(connection)
  const queues = openQueues(connection)
  const queueFor = queues.get
  const option = (name: string, fallback: number) => {
    const all = [target, ...rest]
    const at = all.indexOf(name)
    const value = at >= 0 ? Number(all[at + 1]) : fallback
    return Number.isInteger(value) && value >= 0 ? value : fallback
  }
  try {
    switch (command) {
      case 'list': {
        const page = await listDeadLetters(
          deadLetters,
          option('--offset', 0),
          option('--limit', 20),
        )
        console.log(`${page.total} dead letter(s)`)
        for (const entry of page.data) {
          console.log(
            `${entry.id}  ${entry.name}  ${entry.failedAt}  attempts ${entry.attemptsMade}  ${entry.error.slice(0, 120)}`,
          )
        }
        return 0
      }
      case 'show': {
        if (!target) break
        const entry = await getDeadLetter(deadLetters, target)
        if (!entry) {
          console.error(`no dead letter ${target}`)
          return 1
        }
        console.log(JSON.stringify(entry, null, 2))
        return 0
      }
      case 'replay': {
        if (!target) break
        if (target === '--all') {
          console.log(`replayed ${await replayAllDeadLetters(deadLetters, queueFor)}`)
          return 0
        }
        if (!(await replayDeadLetter(deadLetters, target, queueFor))) {
          console.error(`no dead letter ${target}`)
          return 1
        }
        console.log(`replayed ${target}`)
        return 0
      }
      case 'purge': {
        if (!target) break
        const purged = await purgeDeadLetters(deadLetters, target === '--all' ? undefined : target)
        console.log(`purged ${purged}`)
        return target === '--all' || purged > 0 ? 0 : 1
      }
    }
    console.error(USAGE)
    return 2
  } finally {
    await Promise.all([deadLetters.close(), queues.close()])
    connection.disconnect()
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`jobs: ${error.message}`)
    process.exit(1)
  },
)
