/**
 * Why a backup or restore stopped, each with its exit code (BSD sysexits, so scripts and
 * job logs can tell a refusal from an outage from a corrupt file).
 */
export const EXIT = {
  /** Bad arguments. */
  usage: 64,
  /** The backup file is corrupt, truncated, or not what its manifest describes. */
  corrupt: 65,
  /** The backup (dump or manifest) is not there. */
  missing: 66,
  /** The database (or the object store) cannot be reached. */
  unavailable: 69,
  /** pg_dump or pg_restore failed for another reason; their own words follow. */
  failed: 70,
  /** The destination cannot be written. */
  unwritable: 73,
  /** Refused: the target database holds tables, or the login cannot read every row. */
  refused: 77,
  /** Configuration: a missing or wrong key, a client tool too old or missing. */
  config: 78,
} as const

export type BackupErrorKind = keyof typeof EXIT

/** A failure the operator can act on: its message says what happened and what to do. */
export class BackupError extends Error {
  override name = 'BackupError'
  readonly kind: BackupErrorKind
  constructor(kind: BackupErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.kind = kind
  }
  get exitCode(): number {
    return EXIT[this.kind]
  }
}

/** The message of anything thrown, without a stack. */
export const messageOf = (error: unknown) =>
  error instanceof Error ? error.message : String(error)

/** host:port/database of a Postgres URL, for messages (never the password). */
export function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`
  } catch {
    return '(unparsable database URL)'
  }
}
