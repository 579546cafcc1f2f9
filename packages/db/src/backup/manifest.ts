import { z } from 'zod'

export const MANIFEST_FORMAT = 'groundwork-backup/1'
export const MANIFEST_SUFFIX = '.manifest.json'

/**
 * Cluster-wide objects the database's privileges and policies name, which pg_dump does not
 * carry (roles belong to the server, not to one database).
 */
const role = z.object({
  name: z.string().min(1),
  login: z.boolean(),
  inherit: z.boolean(),
  /** Roles of this list it is a member of (groundwork_worker is a groundwork_app). */
  memberOf: z.array(z.string()),
})

/** Written next to each dump, after it: a backup without its manifest is not complete. */
export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  /** The backup's name: `<database>-<UTC time>`; its files are named after it. */
  name: z.string().min(1),
  file: z.string().min(1),
  createdAt: z.iso.datetime(),
  completedAt: z.iso.datetime(),
  sizeBytes: z.number().int().nonnegative(),
  /** Of the stored file (encrypted, when it is): checked before anything is restored. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  encryption: z.object({ format: z.literal('age'), recipient: z.string() }).nullable(),
  server: z.object({ version: z.string(), major: z.number().int() }),
  pgDump: z.object({ version: z.string(), major: z.number().int() }),
  database: z.object({
    name: z.string(),
    encoding: z.string(),
    collate: z.string(),
    ctype: z.string(),
    /** Its privileges (null: the defaults), e.g. PUBLIC without TEMPORARY. */
    privileges: z
      .array(
        z.object({ grantee: z.string(), privilege: z.enum(['CONNECT', 'TEMPORARY', 'CREATE']) }),
      )
      .nullable(),
    /** ALTER DATABASE ... SET values (name=value). */
    settings: z.array(z.string()),
  }),
  roles: z.array(role),
})

export type Manifest = z.infer<typeof manifestSchema>
export type ManifestRole = z.infer<typeof role>

/** 2026-12-01T02:30:00.123Z -> 20261201T023000123Z: sorts as it reads, valid in any store. */
export function timestampOf(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '')
}

/** A backup's name (`<database>-<timestamp>`), from the files of any backup. */
const BACKUP_FILE = /^\.?(.+-(\d{8}T\d{9}Z))(?:\.dump(?:\.age)?(?:\.partial)?|\.manifest\.json)$/

/** The backup a file belongs to and when it was made; undefined for other files. */
export function parseBackupFile(file: string): { name: string; createdAt: Date } | undefined {
  const match = BACKUP_FILE.exec(file)
  if (!match) return undefined
  const t = match[2] as string
  const iso = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}.${t.slice(15, 18)}Z`
  const createdAt = new Date(iso)
  return Number.isNaN(createdAt.getTime()) ? undefined : { name: match[1] as string, createdAt }
}

export const manifestFileOf = (name: string) => `${name}${MANIFEST_SUFFIX}`

/** The backup name of a dump or manifest file name. */
export function backupNameOf(file: string): string | undefined {
  if (file.endsWith(MANIFEST_SUFFIX)) return file.slice(0, -MANIFEST_SUFFIX.length)
  const match = /^(.+)\.dump(?:\.age)?$/.exec(file)
  return match?.[1]
}
