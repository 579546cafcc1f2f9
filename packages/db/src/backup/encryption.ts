import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { Decrypter, Encrypter, generateIdentity, identityToRecipient } from 'age-encryption'
import { BackupError, messageOf } from './errors.ts'

/**
 * BACKUP_ENCRYPTION_KEY is an age key (https://age-encryption.org, ADR 024): an identity
 * (AGE-SECRET-KEY-1...) encrypts and decrypts; a recipient (age1...), the identity's public
 * half, only encrypts, so a host that makes backups need not hold what reads them.
 */
export type BackupKey =
  | { kind: 'identity'; identity: string; recipient: string }
  | { kind: 'recipient'; recipient: string }

export async function parseBackupKey(value: string): Promise<BackupKey> {
  const key = value.trim()
  try {
    if (/^AGE-SECRET-KEY-/.test(key))
      return { kind: 'identity', identity: key, recipient: await identityToRecipient(key) }
    if (/^age1/.test(key)) {
      // Encrypting to it checks the recipient's encoding and checksum.
      const probe = new Encrypter()
      probe.addRecipient(key)
      await probe.encrypt(new Uint8Array())
      return { kind: 'recipient', recipient: key }
    }
  } catch (error) {
    throw new BackupError(
      'config',
      `BACKUP_ENCRYPTION_KEY is not a valid age key: ${messageOf(error)}`,
    )
  }
  throw new BackupError(
    'config',
    'BACKUP_ENCRYPTION_KEY must be an age identity (AGE-SECRET-KEY-1...) or recipient (age1...); `pnpm db:backup keygen` makes a pair',
  )
}

/** A new identity and its recipient. */
export async function generateKeyPair(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateIdentity()
  return { identity, recipient: await identityToRecipient(identity) }
}

/** `plain`, encrypted to `recipient` as a stream (age's STREAM: 64 KiB authenticated chunks). */
export async function encryptStream(plain: Readable, recipient: string): Promise<Readable> {
  const encrypter = new Encrypter()
  encrypter.addRecipient(recipient)
  const encrypted = await encrypter.encrypt(Readable.toWeb(plain) as ReadableStream<Uint8Array>)
  return Readable.fromWeb(encrypted as WebReadableStream<Uint8Array>)
}

/**
 * `encrypted`, decrypted with `identity`. Resolves once the header is read, so a wrong key
 * is known before anything is restored; a corrupt or truncated chunk errors the stream.
 */
export async function decryptStream(encrypted: Readable, identity: string): Promise<Readable> {
  const decrypter = new Decrypter()
  decrypter.addIdentity(identity)
  try {
    const plain = await decrypter.decrypt(Readable.toWeb(encrypted) as ReadableStream<Uint8Array>)
    return Readable.fromWeb(plain as WebReadableStream<Uint8Array>)
  } catch (error) {
    encrypted.destroy()
    const message = messageOf(error)
    if (/no identity matched/.test(message))
      throw new BackupError(
        'config',
        'BACKUP_ENCRYPTION_KEY does not decrypt this backup: it was encrypted to another key',
        { cause: error },
      )
    throw new BackupError('corrupt', `the backup is not a readable age file: ${message}`, {
      cause: error,
    })
  }
}
