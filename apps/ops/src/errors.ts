/**
 * Exit codes of `pnpm ops` (docs/runbooks/operations.md lists them): scripts branch on
 * these, people read the message. "Already so" is success: every command may be re-run.
 */
export const EXIT = {
  /** Done, or it already was so. */
  ok: 0,
  /** Failed for a reason not listed below (the message says which). */
  failed: 1,
  /** Wrong command line: unknown command or option, missing or malformed argument. */
  usage: 2,
  /** The user, API key, webhook endpoint or queue named does not exist. */
  notFound: 3,
  /** A destructive command was not confirmed (declined, or no terminal and no --yes). */
  notConfirmed: 4,
  /** Postgres or Redis did not answer: nothing was changed. */
  unavailable: 5,
  /** The environment is missing something the command needs (a URL, the operator's name). */
  config: 6,
  /** `migrations status`: the database is not at this build's migrations. */
  notUpToDate: 7,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** An outcome a command reports with its own exit code and a message for the operator. */
export class OpsError extends Error {
  override name = 'OpsError'
  readonly exitCode: ExitCode
  constructor(exitCode: ExitCode, message: string) {
    super(message)
    this.exitCode = exitCode
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
])

/**
 * Whether an error means Postgres or Redis went away mid-command (both are checked before
 * a command starts; this is for the rare loss in between): exit 5, not 1.
 */
export function isUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const { code, name, message } = current as { code?: unknown; name?: unknown; message?: unknown }
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || /^P10(01|02|08|17)$/.test(code)))
      return true
    if (name === 'PrismaClientInitializationError' || name === 'MaxRetriesPerRequestError')
      return true
    if (
      typeof message === 'string' &&
      /Connection is closed|Stream isn't writeable|Command timed out|Can't reach database server|Connection terminated|timeout exceeded when trying to connect/i.test(
        message,
      )
    )
      return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}
