import { generateSecret, hashSecret } from '@repo/auth'
import type { Redis } from 'ioredis'

/** Where the queue dashboard is served, and the cookie that carries its session. */
export const QUEUE_DASHBOARD_PATH = '/admin/queues'
export const QUEUE_DASHBOARD_COOKIE = 'gw_queue_dashboard'
/** A dashboard link works once, within a minute; the session it opens lasts an hour. */
export const QUEUE_DASHBOARD_TICKET_SECONDS = 60
export const QUEUE_DASHBOARD_SESSION_MS = 3_600_000

const ticketKey = (ticket: string) => `queue-dashboard:ticket:${hashSecret(ticket)}`

/** A single-use ticket for `userId`; only its hash is stored, for a minute. */
export async function issueDashboardTicket(redis: Redis, userId: string) {
  const ticket = generateSecret()
  await redis.set(ticketKey(ticket), userId, 'EX', QUEUE_DASHBOARD_TICKET_SECONDS)
  return ticket
}

/** The user a ticket was issued to, consuming it (GETDEL: it works once). */
export function redeemDashboardTicket(redis: Redis, ticket: string): Promise<string | null> {
  return redis.getdel(ticketKey(ticket))
}
