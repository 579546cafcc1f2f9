import { deliverWebhook, fanOutWebhookEvent, type WebhookDeliveryDeps } from '@repo/core'
import { webhookDeliveryJob, webhookEventJob } from '@repo/jobs'
import { isValidRequestId } from '@repo/observability'
import { DelayedError, UnrecoverableError } from 'bullmq'
import { definedHandler } from './define-handler.ts'
import type { JobHandler } from './handlers.ts'
import type { JobMetrics, WebhookOutcome } from './metrics.ts'

/** The longest a delivery waits between tries for a free slot. */
const BUSY_RETRY_CAP_MS = 60_000

/** What each result of deliverWebhook counts as; `busy` sent nothing and counts as nothing. */
const OUTCOMES: Record<string, WebhookOutcome | undefined> = {
  succeeded: 'delivered',
  failed: 'failed',
  missing: 'skipped',
  finished: 'skipped',
  canceled: 'skipped',
}

export class WebhookAttemptFailed extends Error {
  override name = 'WebhookAttemptFailed'
}

/**
 * The outgoing-webhook handlers: the fan-out of an event (webhooks queue) and one
 * delivery attempt (webhook-deliveries queue). A failed attempt throws, so BullMQ
 * retries it with the definition's backoff; the last one is recorded as the delivery's
 * failure and completes, as the API shows it, instead of filing a dead letter.
 */
export function webhookHandlers(
  deps: WebhookDeliveryDeps & {
    /**
     * How soon a delivery that found no free slot runs again the first time (doubling
     * with each deferral in a row, up to a minute; jittered ±50 %).
     */
    busyRetryMs?: number
    /** Counts each attempt's outcome (webhook_deliveries_total). */
    metrics?: Pick<JobMetrics, 'webhookDelivery'>
  },
): {
  events: Record<string, JobHandler>
  deliveries: Record<string, JobHandler>
} {
  const organizationOf = (origin: { organizationId?: string | undefined }) => {
    if (!origin.organizationId) throw new UnrecoverableError('the job carries no organization')
    return origin.organizationId
  }
  return {
    events: {
      [webhookEventJob.name]: definedHandler(webhookEventJob, async (event, { origin, logger }) => {
        const created = await fanOutWebhookEvent(deps, organizationOf(origin), event, origin)
        logger.info(
          { eventId: event.eventId, type: event.type, deliveries: created.length },
          'webhook event fanned out',
        )
        return { deliveries: created.length }
      }),
    },
    deliveries: {
      [webhookDeliveryJob.name]: definedHandler(
        webhookDeliveryJob,
        async ({ deliveryId }, { origin, logger, signal, job, token }) => {
          const attempts = job.opts.attempts ?? 1
          const final = job.attemptsMade + 1 >= attempts
          const result = await deliverWebhook(deps, {
            organizationId: organizationOf(origin),
            deliveryId,
            final,
            signal,
            // The receiver can quote the request that caused the event (only a plain id:
            // a job's data is not trusted to be a safe header value).
            ...(isValidRequestId(origin.requestId) ? { requestId: origin.requestId } : {}),
          }).catch((error: unknown) => {
            // The attempt could not even be recorded (the database): it failed all the same.
            deps.metrics?.webhookDelivery(final ? 'dead_letter' : 'failed')
            throw error
          })
          const outcome = OUTCOMES[result.outcome]
          if (outcome)
            deps.metrics?.webhookDelivery(outcome === 'failed' && final ? 'dead_letter' : outcome)
          if (result.outcome === 'busy') {
            // The organization or the endpoint has every slot busy: give this worker's
            // slot to another job and come back later, as the same attempt (no retry
            // used). Each deferral in a row waits twice as long (up to a minute), so a
            // tenant's backlog waits in the delayed set instead of cycling through the
            // queue ahead of other tenants' jobs.
            const deferrals = Math.max(0, job.attemptsStarted - job.attemptsMade - 1)
            const delayMs =
              Math.min((deps.busyRetryMs ?? 2_000) * 2 ** deferrals, BUSY_RETRY_CAP_MS) *
              (0.5 + Math.random())
            await job.moveToDelayed(Date.now() + delayMs, token)
            throw new DelayedError()
          }
          if (result.outcome === 'failed') {
            logger.warn(
              {
                deliveryId,
                attempt: job.attemptsMade + 1,
                error: result.error,
                final: result.final,
                heldBack: result.heldBack,
              },
              'webhook delivery attempt failed',
            )
            if (result.disabledEndpoint)
              logger.warn({ deliveryId }, 'webhook endpoint disabled after repeated failures')
            if (!result.final) throw new WebhookAttemptFailed(result.error)
          }
          return result
        },
      ),
    },
  }
}
