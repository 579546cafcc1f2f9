import { startWorkerProcess } from '@repo/worker/test-helpers'
import { type ChildServer, superviseChild } from './child.ts'

/**
 * The worker's real entry point in a process of its own, taking jobs from the stack's
 * Redis: emails and webhook deliveries really happen. Ready once it logs that its queues
 * are served (info level for that line; the output stays in memory).
 */
export async function startWorker(
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<ChildServer> {
  const worker = startWorkerProcess(
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      // stop() waits for running jobs: a delivery to a hanging endpoint must not hold it long.
      SHUTDOWN_TIMEOUT_MS: '5000',
      ...env,
    },
    nodeArgs,
  )
  return superviseChild(worker.child, {
    name: 'the worker',
    output: worker.output,
    ready: () => worker.output().includes('"msg":"worker ready"'),
    timeoutMs: 90_000,
  })
}
