export { applyRetention, type BackupOptions, type BackupResult, runBackup } from './backup.ts'
export { generateKeyPair } from './encryption.ts'
export { BackupError, EXIT } from './errors.ts'
export { listBackups } from './list.ts'
export { type Manifest, manifestSchema } from './manifest.ts'
export { type RestoreOptions, type RestoreResult, restoreBackup } from './restore.ts'
export { openStorage, type S3Settings } from './storage.ts'

/** The backup settings of an environment (backupEnv); undefined when no destination is set. */
export function backupSettingsFromEnv(env: {
  BACKUP_DESTINATION?: string | undefined
  BACKUP_ENCRYPTION_KEY?: string | undefined
  BACKUP_RETENTION_DAYS: number
  BACKUP_DATABASE_URL?: string | undefined
  MIGRATION_DATABASE_URL?: string | undefined
  BACKUP_S3_ENDPOINT?: string | undefined
  BACKUP_S3_FORCE_PATH_STYLE: boolean
  PG_BIN_DIR?: string | undefined
}) {
  const databaseUrl = env.BACKUP_DATABASE_URL ?? env.MIGRATION_DATABASE_URL
  if (!env.BACKUP_DESTINATION || !databaseUrl) return undefined
  return {
    databaseUrl,
    destination: env.BACKUP_DESTINATION,
    encryptionKey: env.BACKUP_ENCRYPTION_KEY,
    retentionDays: env.BACKUP_RETENTION_DAYS,
    s3: { endpoint: env.BACKUP_S3_ENDPOINT, forcePathStyle: env.BACKUP_S3_FORCE_PATH_STYLE },
    pgBinDir: env.PG_BIN_DIR,
  }
}
