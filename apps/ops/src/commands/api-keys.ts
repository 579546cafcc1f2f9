import { isAppError, resourceOrganization, rotateApiKey } from '@repo/core'
import { withTenant } from '@repo/db'
import type { OpsContext } from '../context.ts'
import { EXIT, OpsError } from '../errors.ts'

/**
 * A rotation this recent is taken for a re-run of the same command (the new key was
 * printed then), not a second rotation: --force rotates again.
 */
export const API_KEY_REPEAT_GUARD_MS = 15 * 60_000

/** `api-keys rotate <id>`: a new secret for the same key; the old one stops working at once. */
export async function rotateKey(ctx: OpsContext, id: string, options: { force?: boolean }) {
  const actor = ctx.operator()
  const db = await ctx.db()
  const organizationId = await resourceOrganization({ db }, 'api_key', id)
  if (!organizationId) throw new OpsError(EXIT.notFound, `No API key ${id}.`)
  const { key, organization } = await withTenant(db, { organizationId }, async (tx) => ({
    key: await tx.apiKey.findUnique({ where: { id } }),
    organization: await tx.organization.findUnique({ where: { id: organizationId } }),
  }))
  // Deleted since it was looked up (with its organization, perhaps).
  if (!key || !organization) throw new OpsError(EXIT.notFound, `No API key ${id}.`)
  const label = `API key "${key.name}" (gw_${key.prefix}_…) of ${organization.name} (${organizationId})`
  if (key.revokedAt)
    throw new OpsError(
      EXIT.notFound,
      `The ${label} was revoked at ${key.revokedAt.toISOString()}: there is nothing to rotate.`,
    )
  const since = key.secretRotatedAt
  if (!options.force && since && Date.now() - since.getTime() < API_KEY_REPEAT_GUARD_MS) {
    ctx.out(
      `Already done: the ${label} was rotated at ${since.toISOString()}; the new key was shown then. To rotate it again, add --force.`,
    )
    return
  }
  await ctx.confirm(
    `Rotate the secret of the ${label}? Whoever uses it now is refused until they switch to the new key.`,
    key.prefix,
  )
  try {
    const rotated = await rotateApiKey(
      { db },
      { organizationId, operator: actor.operator },
      {
        apiKeyId: id,
        ...(options.force ? {} : { unlessRotatedWithinMs: API_KEY_REPEAT_GUARD_MS }),
      },
    )
    ctx.out(
      `Rotated the ${label}: the old secret no longer works. Audit log: api_key.secret_rotated by ${actor.operator}.`,
    )
    if (key.expiresAt && key.expiresAt <= new Date())
      ctx.warn(
        `Note: the key expired at ${key.expiresAt.toISOString()}; the new secret does not change that.`,
      )
    ctx.out('The new key, shown this once (hand it over through a secret channel):')
    ctx.out(rotated.key)
  } catch (error) {
    // Another operator rotated it between the check above and now.
    if (isAppError(error) && error.code === 'recently_rotated') {
      ctx.out(`Already done: ${error.userMessage} To rotate it again, add --force.`)
      return
    }
    throw error
  }
}
