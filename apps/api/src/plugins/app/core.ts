import type { CoreDeps } from '@repo/core'
import { EMAIL_JOB, EMAIL_QUEUE, emailJobOptions, emailJobSchema } from '@repo/jobs'
import { Queue } from 'bullmq'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** What business functions in @repo/core need, built once from config. */
export default fp(
  async function core(fastify: FastifyInstance) {
    // Producers fail fast: the shared client has no offline queue, so a Redis outage is an
    // error now rather than a request hanging. The worker validates the payload again.
    const emailQueue = new Queue(EMAIL_QUEUE, { connection: fastify.redis })
    fastify.addHook('onClose', async () => {
      await emailQueue.close()
    })
    fastify.decorate('deps', {
      appUrl: fastify.config.APP_URL,
      // Development and tests use a fixed, public key; production must set its own (env check).
      mfaKey: fastify.config.MFA_ENCRYPTION_KEY
        ? Buffer.from(fastify.config.MFA_ENCRYPTION_KEY, 'base64')
        : Buffer.from('groundwork-development-only-key!', 'utf8'),
      logger: fastify.log,
      sendEmail: async (job, jobId) => {
        await emailQueue.add(EMAIL_JOB, emailJobSchema.parse(job), { ...emailJobOptions, jobId })
      },
      db: fastify.db,
      redis: fastify.redis,
      sessionPolicy: {
        idleTimeoutMs: fastify.config.SESSION_IDLE_TIMEOUT_HOURS * 3_600_000,
        absoluteLifetimeMs: fastify.config.SESSION_ABSOLUTE_LIFETIME_DAYS * 86_400_000,
      },
    } satisfies CoreDeps)
  },
  { name: 'core', dependencies: ['db', 'redis'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    deps: CoreDeps
  }
}
