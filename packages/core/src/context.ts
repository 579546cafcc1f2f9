import type { OAuthProvider, SessionPolicy } from '@repo/auth'
import type { PrismaClient } from '@repo/db'
import type { AccessChanges } from './access-changes.ts'
import type { ThrottleStore } from './sign-in-throttle.ts'
import type { TargetPolicy } from './webhook-url.ts'

/** What business functions need from their caller (a route, a job, a script). */
export interface CoreDeps {
  db: PrismaClient
  sessionPolicy: SessionPolicy
  /** Redis, for counters shared by every instance (sign-in throttling). */
  redis: ThrottleStore
  /**
   * Where committed changes to sessions, accounts and memberships are announced, so every
   * API instance drops its cached copy at once (ADR 035).
   */
  accessChanges: AccessChanges
  /** The web app's public URL, for links in emails. */
  appUrl: string
  /** Configured OAuth providers (absent ones are disabled). */
  oauthProviders: Partial<Record<OAuthProvider['name'], OAuthProvider>>
  /**
   * AES-256 key for secrets at rest (TOTP keys, stored idempotent answers, webhook signing
   * secrets), from MFA_ENCRYPTION_KEY.
   */
  secretsKey: Buffer
  /**
   * Outgoing webhooks: whether endpoints may be private addresses (never in production),
   * or only the internal ones an allow-list names.
   */
  webhooks: TargetPolicy & { secretGraceMs: number }
  /** How much one organization may own: plan limits, checked when something is created. */
  quotas: { projectsPerOrganization: number; tasksPerProject: number }
  /**
   * For failures a function absorbs on purpose (the caller's answer does not change), and
   * for security events that concern no account (they belong in logs, not the audit log).
   */
  logger: {
    warn(details: object, message: string): void
    info(details: object, message: string): void
  }
}

/** Where a request came from, for sessions and the audit log. */
export interface RequestMeta {
  ipAddress?: string | undefined
  /** What per-address limits count by: the IPv4 address or the IPv6 /64 (clientNetwork). */
  clientNetwork?: string | undefined
  userAgent?: string | undefined
  /** Carried into the jobs a request starts, so their logs join the request's. */
  requestId?: string | undefined
}
