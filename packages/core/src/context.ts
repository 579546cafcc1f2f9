import type { SessionPolicy } from '@repo/auth'
import type { PrismaClient } from '@repo/db'
import type { ThrottleStore } from './sign-in-throttle.ts'

/** What business functions need from their caller (a route, a job, a script). */
export interface CoreDeps {
  db: PrismaClient
  sessionPolicy: SessionPolicy
  /** Redis, for counters shared by every instance (sign-in throttling). */
  redis: ThrottleStore
}

/** Where a request came from, for sessions and the audit log. */
export interface RequestMeta {
  ipAddress?: string | undefined
  userAgent?: string | undefined
}
