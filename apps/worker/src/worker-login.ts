import { type PrismaClient, WORKER_ROLE } from '@repo/db'
import type { Logger } from '@repo/observability'

/**
 * Whether the worker's database login may run the outbox relay (a member of the worker
 * role). The API's login may not: a worker started with it would run but never publish a
 * job, so this is checked at start rather than discovered as a silent backlog. Undefined
 * while the database does not answer.
 */
export async function workerLoginProblem(db: PrismaClient): Promise<string | undefined> {
  const [row] = await db.$queryRaw<{ login: string; member: boolean }[]>`
    SELECT current_user AS login, pg_has_role(current_user, ${WORKER_ROLE}, 'MEMBER') AS member`
  if (!row || row.member) return undefined
  return (
    `The worker's database login "${row.login}" is not a member of the ${WORKER_ROLE} role, ` +
    'so the outbox relay cannot publish jobs. Set WORKER_DATABASE_URL to the worker login ' +
    '(pnpm dev and the migration tooling create one; see docs/guides/extending.md).'
  )
}

/**
 * Checks the login as soon as the database answers (the worker also starts while it is
 * down) and calls `refuse` with the reason when it is the wrong one.
 */
export function checkWorkerLogin(
  db: PrismaClient,
  logger: Logger,
  refuse: (reason: string) => void,
  retryMs = 5_000,
): () => void {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const attempt = async () => {
    try {
      const problem = await workerLoginProblem(db)
      if (problem && !stopped) refuse(problem)
    } catch (err) {
      if (stopped) return
      logger.warn({ err }, 'could not check the worker login yet; retrying')
      timer = setTimeout(attempt, retryMs)
      timer.unref()
    }
  }
  void attempt()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
