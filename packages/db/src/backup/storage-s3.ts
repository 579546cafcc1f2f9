import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { BackupError, messageOf } from './errors.ts'
import type { S3Settings, Storage } from './storage.ts'

/**
 * Backups as objects under s3://bucket/prefix. Credentials and region come from the
 * standard AWS environment (AWS_ACCESS_KEY_ID, AWS_REGION, a profile, an instance or pod
 * role); BACKUP_S3_ENDPOINT and BACKUP_S3_FORCE_PATH_STYLE point it at S3-compatible stores.
 */
export function s3Storage(bucket: string, prefix: string, settings: S3Settings): Storage {
  const client = new S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle ?? false,
    // S3-compatible stores have no region of their own; the SDK still needs one to sign.
    ...(settings.endpoint && !process.env.AWS_REGION ? { region: 'us-east-1' } : {}),
    maxAttempts: 5,
  })
  const key = (name: string) => (prefix ? `${prefix}/${name}` : name)
  const url = (name?: string) => `s3://${bucket}/${name ? key(name) : prefix}`

  /** What went wrong, in the store's words, as the kind of failure it is. */
  const failure = (action: string, name: string | undefined, error: unknown) => {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined
    const code = error instanceof S3ServiceException ? error.name : undefined
    const words = `${action} ${url(name)}: ${code ? `${code}: ` : ''}${messageOf(error)}`
    if (code === 'NoSuchKey' || (status === 404 && action === 'cannot read'))
      return new BackupError('missing', `${url(name)} does not exist`, { cause: error })
    if (code === 'NoSuchBucket' || status === 403 || status === 404)
      return new BackupError(action === 'cannot read' ? 'missing' : 'unwritable', words, {
        cause: error,
      })
    if (status === undefined) return new BackupError('unavailable', words, { cause: error })
    return new BackupError('failed', words, { cause: error })
  }

  return {
    describe: url,
    async assertWritable() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }))
      } catch (error) {
        throw failure('cannot write to', undefined, error)
      }
    },
    async write(name, body, signal) {
      // Multipart from the stream: memory stays at a few parts however large the dump.
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key(name), Body: body },
        partSize: 16 * 1024 * 1024,
        queueSize: 2,
        ...(signal ? { abortController: abortControllerOf(signal) } : {}),
      })
      try {
        await upload.done()
      } catch (error) {
        // A failed dump errors the body: that, not the upload's wording, is the cause.
        if (body.errored) throw body.errored
        throw failure('cannot write', name, error)
      }
    },
    async read(name) {
      try {
        const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(name) }))
        if (!(Body instanceof Readable)) throw new Error('the object has no readable body')
        return Body
      } catch (error) {
        throw failure('cannot read', name, error)
      }
    },
    async list() {
      const names: string[] = []
      let ContinuationToken: string | undefined
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix ? `${prefix}/` : '',
              Delimiter: '/',
              ContinuationToken,
            }),
          )
          for (const object of page.Contents ?? [])
            if (object.Key) names.push(object.Key.slice(prefix ? prefix.length + 1 : 0))
          ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
        } while (ContinuationToken)
      } catch (error) {
        throw failure('cannot list', undefined, error)
      }
      return names
    },
    async remove(names) {
      // DeleteObjects takes at most 1000 keys a call.
      for (let i = 0; i < names.length; i += 1000) {
        const batch = names.slice(i, i + 1000)
        try {
          const result = await client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((name) => ({ Key: key(name) })), Quiet: true },
            }),
          )
          const [first] = result.Errors ?? []
          if (first) throw new Error(`${first.Key}: ${first.Code} ${first.Message}`)
        } catch (error) {
          throw failure('cannot delete from', undefined, error)
        }
      }
    },
    async localCopy(name, tmpDir) {
      const dir = await mkdtemp(join(tmpDir, 'groundwork-restore-'))
      const path = join(dir, name)
      const cleanUp = () => rm(dir, { recursive: true, force: true })
      try {
        await pipeline(await this.read(name), createWriteStream(path, { mode: 0o600 }))
        return { path, cleanUp }
      } catch (error) {
        await cleanUp()
        if (error instanceof BackupError) throw error
        throw new BackupError('unavailable', `cannot download ${url(name)}: ${messageOf(error)}`, {
          cause: error,
        })
      }
    },
  }
}

function abortControllerOf(signal: AbortSignal): AbortController {
  const controller = new AbortController()
  if (signal.aborted) controller.abort(signal.reason)
  else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true })
  return controller
}
