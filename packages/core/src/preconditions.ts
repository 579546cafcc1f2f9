import { AppError } from './app-error.ts'

/**
 * Optimistic concurrency. Every versioned row carries `version`, incremented by each
 * update; a writer names the version it read and the update applies only if it is still
 * current. Nobody waits on a lock held across requests, and no update is lost silently.
 */
export const versionMismatch = (what: string, current: number) =>
  new AppError({
    code: 'version_mismatch',
    status: 412,
    userMessage: `${what} was changed by someone else (it is now at version ${current}). Read it again and reapply your change.`,
  })

/** Expected version, or undefined when the caller asked for no precondition. */
export type ExpectedVersion = number | undefined

/**
 * Quotas: creating one more `what` would exceed `limit`. Checked inside the creating
 * transaction after locking the parent row, so concurrent creates cannot both slip in.
 */
export const quotaExceeded = (what: string, limit: number) =>
  new AppError({
    code: 'quota_exceeded',
    status: 403,
    userMessage: `The quota of ${limit} ${what} is reached. Delete some, or ask for a higher quota.`,
  })
