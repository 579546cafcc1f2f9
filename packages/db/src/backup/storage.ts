import type { Readable } from 'node:stream'
import { BackupError } from './errors.ts'

/** Where backups live: a directory, or a prefix in an S3(-compatible) bucket. */
export interface Storage {
  /** The location of `name` (or of the storage itself), for messages. */
  describe(name?: string): string
  /** Fails fast (`unwritable`) when nothing could be written, before any dump starts. */
  assertWritable(): Promise<void>
  /**
   * Writes `body` as `name`. An error of `body` (the dump failed) aborts the write and
   * leaves nothing under `name`.
   */
  write(name: string, body: Readable, signal?: AbortSignal): Promise<void>
  /** Reads `name`; a `missing` error when it does not exist. */
  read(name: string): Promise<Readable>
  /** Every object name directly under the location. */
  list(): Promise<string[]>
  remove(names: string[]): Promise<void>
  /** A local path to read `name` from twice (verify, then restore); S3 downloads it. */
  localCopy(name: string, tmpDir: string): Promise<{ path: string; cleanUp(): Promise<void> }>
}

export interface S3Settings {
  /** An S3-compatible endpoint (MinIO, R2, ...); unset: AWS. */
  endpoint?: string | undefined
  forcePathStyle?: boolean | undefined
}

export type Location =
  | { kind: 'directory'; path: string }
  | { kind: 's3'; bucket: string; prefix: string }

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/** Parses BACKUP_DESTINATION: an absolute directory, or s3://bucket[/prefix]. */
export function parseLocation(destination: string): Location {
  if (destination.startsWith('s3://')) {
    const rest = destination.slice('s3://'.length)
    const [bucket = '', ...path] = rest.split('/')
    if (!BUCKET.test(bucket))
      throw new BackupError('usage', `${destination}: "${bucket}" is not an S3 bucket name`)
    return { kind: 's3', bucket, prefix: path.filter(Boolean).join('/') }
  }
  if (!destination.startsWith('/'))
    throw new BackupError(
      'usage',
      `${destination}: a backup location is an absolute directory path or s3://bucket/prefix`,
    )
  return { kind: 'directory', path: destination }
}

/** Splits the location of one file (a path or an s3:// URL) into its storage and name. */
export function splitFileLocation(file: string): { location: string; name: string } {
  const slash = file.lastIndexOf('/')
  const name = file.slice(slash + 1)
  const location = file.slice(0, slash) || '/'
  if (!name || (file.startsWith('s3://') && slash < 's3://'.length))
    throw new BackupError('usage', `${file} does not name a backup file`)
  return { location, name }
}

export async function openStorage(destination: string, s3: S3Settings = {}): Promise<Storage> {
  const location = parseLocation(destination)
  if (location.kind === 'directory') {
    const { directoryStorage } = await import('./storage-directory.ts')
    return directoryStorage(location.path)
  }
  // The AWS SDK loads only when a bucket is used.
  const { s3Storage } = await import('./storage-s3.ts')
  return s3Storage(location.bucket, location.prefix, s3)
}
