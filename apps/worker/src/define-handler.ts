import { type JobContext as CarriedContext, type JobDefinition, readJobEnvelope } from '@repo/jobs'
import type { Logger } from '@repo/observability'
import { type Job, UnrecoverableError } from 'bullmq'
import pTimeout from 'p-timeout'
import type { z } from 'zod'
import type { JobContext, JobHandler } from './handlers.ts'

/** What a defined job's handler gets: its validated payload and a context for the attempt. */
export interface DefinedJobContext extends JobContext {
  job: Job
  /** The job's logger; its lines carry the job's organization and request id (log context). */
  logger: Logger
  /** Aborted when the attempt runs past the definition's timeout: stop, clean up. */
  signal: AbortSignal
  /** Who and what the job runs for (organization, request and trace ids), from its producer. */
  origin: CarriedContext
}

export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError'
}

/**
 * The handler of a defined job. The payload is validated again (a producer on an older
 * deploy, or a hand-edited job, may send anything): an invalid one fails at once, without
 * retries. Each attempt has the definition's timeout, and logs carry the job's context.
 */
export function definedHandler<S extends z.ZodType>(
  definition: JobDefinition<S>,
  handle: (payload: z.output<S>, context: DefinedJobContext) => Promise<unknown>,
): JobHandler {
  return async (job, base) => {
    const read = readJobEnvelope(definition, job.data)
    if (!read.ok) throw new UnrecoverableError(`invalid job data: ${read.reason}`)
    const { context } = read.envelope
    // The organization and request id come from the log context createWorker runs the
    // attempt in; bound here too, they would be printed twice.
    const logger = base.rootLogger.child({ ...base.bindings, jobVersion: definition.version })
    // On timeout the handler's signal aborts (so it can stop its own work) and the attempt
    // fails with JobTimeoutError, whatever the handler does next.
    const controller = new AbortController()
    return pTimeout(
      handle(read.envelope.payload, {
        analytics: base.analytics,
        bindings: base.bindings,
        rootLogger: base.rootLogger,
        token: base.token,
        job,
        logger,
        signal: controller.signal,
        origin: context,
      }),
      {
        milliseconds: definition.timeoutMs,
        fallback: () => {
          controller.abort()
          throw new JobTimeoutError(`job timed out after ${definition.timeoutMs} ms`)
        },
      },
    )
  }
}
