import { openText, sealText } from '@repo/auth'

/**
 * The link of an email that carries a single-use token, sealed for the email job with the
 * key of secrets at rest: a Redis dump, a dead letter or the queue dashboard shows no
 * usable token, only the worker (which holds the key) opens it to send the email.
 */
export function sealEmailLink(url: URL, secretsKey: Buffer): string {
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`an email link must be http(s), not ${url.protocol}`)
  return sealText(url.toString(), secretsKey)
}

/** The link again, for the worker; throws when the key is not the one that sealed it. */
export function openEmailLink(sealed: string, secretsKey: Buffer): string {
  const url = new URL(openText(sealed, secretsKey))
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`an email link must be http(s), not ${url.protocol}`)
  return url.toString()
}
