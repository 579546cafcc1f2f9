export {
  defineJob,
  enqueueJob,
  InvalidJobPayloadError,
  type JobContext,
  type JobDefinition,
  type JobEnvelope,
  type JobQueue,
  jobContextSchema,
  jobEnvelope,
  jobOptions,
  readJobEnvelope,
} from './define-job.ts'
export { EMAIL_JOB, EMAIL_QUEUE, type EmailJob, emailJob, emailJobSchema } from './email.ts'
