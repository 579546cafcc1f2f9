import { AsyncLocalStorage } from 'node:async_hooks'

/** Who and what the current request or job is for: stamped on every log line written for it. */
export interface LogContext {
  requestId?: string | undefined
  organizationId?: string | undefined
  userId?: string | undefined
}

// One store per process, even when this module is loaded twice (a plugin loader's native
// import beside a bundler's or a test runner's copy): a context set by one copy must be
// the one the logger of the other reads.
const KEY = Symbol.for('groundwork.observability.logContext')
const holder = globalThis as typeof globalThis & { [KEY]?: AsyncLocalStorage<LogContext> }
holder[KEY] ??= new AsyncLocalStorage<LogContext>()
const storage = holder[KEY]

/**
 * Runs `fn` with `context` as the log context of everything it starts. The object is
 * kept, not copied: `addToLogContext` fills it in as the request learns more (who the
 * user is, once authentication resolves).
 */
export function runWithLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run(context, fn)
}

/** The log context of the running request or job, if any. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore()
}

/** Adds what became known (organization, user) to the running context; no-op outside one. */
export function addToLogContext(fields: LogContext): void {
  const context = storage.getStore()
  if (!context) return
  for (const [key, value] of Object.entries(fields) as [keyof LogContext, string][])
    if (value !== undefined) context[key] = value
}
