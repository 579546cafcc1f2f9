export { EMAIL_JOB, EMAIL_QUEUE, type EmailJob, emailJobOptions, emailJobSchema } from './email.ts'
