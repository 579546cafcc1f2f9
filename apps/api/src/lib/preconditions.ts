import { AppError, type ExpectedVersion } from '@repo/core'
import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * HTTP preconditions over row versions (RFC 9110): a versioned resource is sent with
 * `ETag: "<version>"`; a change names the version it was based on in `If-Match`.
 */
export function setEtag(reply: FastifyReply, version: number) {
  reply.header('etag', etag(version))
}

/** The ETag of a row at `version`. */
export const etag = (version: number) => `"${version}"`

const ETAG_LIST = /^\s*"(\d{1,9})"\s*$/

/**
 * The version `If-Match` asks for: a number, undefined for `*` (any current version), and
 * when `required` a missing header is 428, so a client cannot overwrite a change it never saw.
 */
export function expectedVersion(request: FastifyRequest, required: boolean): ExpectedVersion {
  const header = request.headers['if-match']
  if (header === undefined || header === '') {
    if (!required) return undefined
    throw new AppError({
      code: 'precondition_required',
      status: 428,
      userMessage:
        'Send If-Match with the ETag you read (for example If-Match: "3"), so that a concurrent change is not overwritten.',
    })
  }
  if (header.trim() === '*') return undefined
  const match = ETAG_LIST.exec(header)
  if (!match) {
    throw new AppError({
      code: 'invalid_input',
      status: 400,
      userMessage: 'The request is not valid.',
      fields: [{ field: 'headers.if-match', message: 'must be one ETag, such as "3", or *' }],
    })
  }
  return Number(match[1])
}
