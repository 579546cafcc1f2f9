import { recordAudit } from '@repo/core'
import { withNoContext } from '@repo/db'
import { QUEUES } from '@repo/jobs'
import type { OpsContext } from '../context.ts'
import { EXIT, OpsError } from '../errors.ts'

/** The queues a command names: those given, or every queue with --all (never both, never none). */
function chosen(ctx: OpsContext, names: string[], all: boolean | undefined): string[] {
  if (all && names.length > 0)
    throw new OpsError(EXIT.usage, 'Name queues or give --all, not both.')
  if (!all && names.length === 0)
    throw new OpsError(
      EXIT.usage,
      `Name a queue (${Object.keys(QUEUES).join(', ')}) or give --all.`,
    )
  return all ? Object.keys(QUEUES) : [...new Set(names.map((name) => ctx.queueName(name)))]
}

/** `queues list`: each queue, paused or not, and its jobs by state. */
export async function listQueues(ctx: OpsContext) {
  const queues = await ctx.queues()
  for (const name of Object.keys(QUEUES)) {
    const queue = queues.get(name)
    const [paused, counts] = await Promise.all([
      queue.isPaused(),
      queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed', 'failed'),
    ])
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0)
    ctx.out(
      `${name.padEnd(20)} ${paused ? 'PAUSED ' : 'running'}  active ${counts.active ?? 0}  waiting ${waiting}  delayed ${counts.delayed ?? 0}  failed ${counts.failed ?? 0}`,
    )
  }
}

/**
 * `queues pause|resume`: BullMQ's global pause (every worker stops taking jobs from the
 * queue; running ones finish; producers keep adding, nothing is lost), recorded per queue.
 * The Redis change runs inside the audit entry's transaction: with Postgres down, nothing
 * changes unrecorded. A queue already so is reported and left alone.
 */
export async function setQueuesPaused(
  ctx: OpsContext,
  names: string[],
  options: { all?: boolean },
  pause: boolean,
) {
  const actor = ctx.operator()
  const targets = chosen(ctx, names, options.all)
  const db = await ctx.db()
  const queues = await ctx.queues()
  const todo: string[] = []
  for (const name of targets) {
    if ((await queues.get(name).isPaused()) === pause)
      ctx.out(`Already done: ${name} is ${pause ? 'paused' : 'running'}.`)
    else todo.push(name)
  }
  if (todo.length === 0) return
  if (pause)
    await ctx.confirm(
      `Pause ${todo.join(', ')}? Workers stop taking their jobs (running ones finish) until they are resumed; new jobs wait.`,
      options.all ? 'all' : todo.join(' '),
    )
  const action = pause ? 'queue.paused' : 'queue.resumed'
  for (const name of todo) {
    await withNoContext(db, async (tx) => {
      await recordAudit(tx, {
        action,
        actorOperator: actor.operator,
        targetType: 'queue',
        targetId: name,
      })
      const queue = queues.get(name)
      await (pause ? queue.pause() : queue.resume())
    })
    ctx.out(`${pause ? 'Paused' : 'Resumed'} ${name}. Audit log: ${action} by ${actor.operator}.`)
  }
}
