import { isAppError, resourceOrganization, rotateWebhookSecret } from '@repo/core'
import { withTenant } from '@repo/db'
import type { OpsContext } from '../context.ts'
import { opsEnv, readEnv, readSecretsKey } from '../env.ts'
import { EXIT, OpsError } from '../errors.ts'

/**
 * `webhooks rotate-secret <id>`: a new signing secret for an endpoint. As when its admins
 * rotate it, the current secret keeps signing beside the new one for
 * WEBHOOK_SECRET_GRACE_HOURS (both signatures in webhook-signature), so the receiver can
 * switch without losing deliveries.
 */
export async function rotateEndpointSecret(
  ctx: OpsContext,
  id: string,
  options: { force?: boolean },
) {
  const actor = ctx.operator()
  const secretsKey = readSecretsKey(ctx.env)
  const { WEBHOOK_SECRET_GRACE_HOURS } = readEnv(opsEnv.webhooks, ctx.env)
  const db = await ctx.db()
  const organizationId = await resourceOrganization({ db }, 'webhook_endpoint', id)
  if (!organizationId) throw new OpsError(EXIT.notFound, `No webhook endpoint ${id}.`)
  const { endpoint, organization } = await withTenant(db, { organizationId }, async (tx) => ({
    endpoint: await tx.webhookEndpoint.findUnique({
      where: { id },
      select: { url: true, previousSecretExpiresAt: true },
    }),
    organization: await tx.organization.findUnique({ where: { id: organizationId } }),
  }))
  // Deleted since it was looked up (with its organization, perhaps).
  if (!endpoint || !organization) throw new OpsError(EXIT.notFound, `No webhook endpoint ${id}.`)
  const label = `webhook endpoint ${endpoint.url} of ${organization.name} (${organizationId})`
  const graceEnds = endpoint.previousSecretExpiresAt
  const inGrace = graceEnds !== null && graceEnds > new Date()
  if (inGrace && !options.force) {
    ctx.out(
      `Already done: the ${label} was rotated recently; its previous secret keeps signing until ${graceEnds.toISOString()}. To rotate again (that previous secret then stops signing at once), add --force.`,
    )
    return
  }
  await ctx.confirm(
    `Rotate the signing secret of the ${label}? The current secret keeps signing beside the new one for ${WEBHOOK_SECRET_GRACE_HOURS} hours${inGrace ? '; the one before it stops signing now' : ''}.`,
  )
  try {
    const rotated = await rotateWebhookSecret(
      { db, secretsKey, webhooks: { secretGraceMs: WEBHOOK_SECRET_GRACE_HOURS * 3_600_000 } },
      { organizationId, operator: actor.operator },
      { endpointId: id, unlessInGrace: !options.force },
    )
    ctx.out(
      `Rotated the signing secret of the ${label}. The previous one keeps signing until ${rotated.endpoint.previousSecretExpiresAt?.toISOString()}. Audit log: webhook_endpoint.secret_rotated by ${actor.operator}.`,
    )
    ctx.out('The new signing secret, shown this once (hand it over through a secret channel):')
    ctx.out(rotated.secret)
  } catch (error) {
    if (isAppError(error) && error.code === 'rotation_in_grace') {
      ctx.out(`Already done: ${error.userMessage} To rotate again, add --force.`)
      return
    }
    throw error
  }
}
