import { describe, expect, it } from 'vitest'
import { type EnvError, parseEnv } from './load-env.ts'
import { backupEnv } from './schemas.ts'

const issuesOf = (source: Record<string, string>) => {
  try {
    parseEnv(backupEnv, source)
    return []
  } catch (error) {
    return (error as EnvError).issues
  }
}

describe('backupEnv', () => {
  it('takes an absolute directory or an S3 bucket and prefix, an age key, and defaults', () => {
    expect(parseEnv(backupEnv, {})).toEqual({
      BACKUP_RETENTION_DAYS: 30,
      BACKUP_S3_FORCE_PATH_STYLE: false,
    })
    for (const destination of [
      '/var/backups/groundwork',
      's3://my-backups',
      's3://my-backups/nightly/db',
    ])
      expect(issuesOf({ BACKUP_DESTINATION: destination })).toEqual([])
    for (const key of [
      'AGE-SECRET-KEY-1C3W3KEQYA5DXXJRZ6DQ568DJK2YECMFK8PN93RTV7X42LGD25TTSHCVYF4',
      'age1gm6xhr6rdl88l87qsz77m6chvnaehu2e0vyh34fr0hy9hvcv8vgs6d4933',
    ])
      expect(issuesOf({ BACKUP_ENCRYPTION_KEY: key })).toEqual([])
  })

  it('names what is wrong: a relative path, a bucket that cannot be one, a key that is not age, a negative retention', () => {
    expect(issuesOf({ BACKUP_DESTINATION: 'backups' })).toEqual([
      'BACKUP_DESTINATION: must be an absolute directory path or s3://bucket/prefix',
    ])
    expect(issuesOf({ BACKUP_DESTINATION: 's3://Bad_Bucket/x' })).toHaveLength(1)
    expect(issuesOf({ BACKUP_ENCRYPTION_KEY: 'correct horse battery staple' })).toEqual([
      expect.stringMatching(/^BACKUP_ENCRYPTION_KEY: must be an age identity .* or recipient/),
    ])
    expect(issuesOf({ BACKUP_RETENTION_DAYS: '-1' })).toEqual([
      expect.stringMatching(/^BACKUP_RETENTION_DAYS: /),
    ])
    expect(issuesOf({ BACKUP_S3_ENDPOINT: 'ftp://minio' })).toHaveLength(1)
  })
})
