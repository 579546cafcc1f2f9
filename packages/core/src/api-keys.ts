import { randomBytes } from 'node:crypto'
import { generateSecret, hashSecret } from '@repo/auth'
import { withPresentedSecret, withTenant } from '@repo/db'
import type { ApiKeyScope } from '@repo/schemas'
import { auditActor, type OrganizationActor } from './actor.ts'
import { errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { type ActingMember, lockedActorRole } from './members.ts'
import { NEWEST_FIRST, type PageRequest, pageQuery, toPage } from './pagination.ts'
import { roleAtLeast } from './resolve-membership.ts'

/** `gw_<prefix>_<secret>`: the prefix identifies the key in lists and logs; only a hash of the whole key is stored. */
const KEY_FORMAT = /^gw_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/

export const isApiKey = (token: string) => KEY_FORMAT.test(token)

/** Creates an organization API key. Its full value is returned once and never stored. */
export async function createApiKey(
  deps: CoreDeps,
  actor: ActingMember & { emailVerified: boolean },
  input: { name: string; scopes: ApiKeyScope[]; expiresInDays?: number | undefined },
  meta: RequestMeta = {},
) {
  if (!actor.emailVerified) {
    throw errors.emailNotVerified('creating API keys')
  }
  const prefix = randomBytes(6).toString('hex')
  const key = `gw_${prefix}_${generateSecret()}`
  const apiKey = await withTenant(deps.db, actor, async (tx) => {
    // The role as of now, locked: a demotion, removal or deletion asked for meanwhile
    // waits for this transaction, then revokes the key with the others.
    if (!roleAtLeast(await lockedActorRole(tx, actor), 'admin')) throw errors.forbidden()
    const created = await tx.apiKey.create({
      data: {
        organizationId: actor.organizationId,
        name: input.name.trim(),
        prefix,
        secretHash: hashSecret(key),
        scopes: [...new Set(input.scopes)],
        createdById: actor.userId,
        expiresAt: input.expiresInDays
          ? new Date(Date.now() + input.expiresInDays * 86_400_000)
          : null,
      },
    })
    await recordAudit(tx, {
      action: 'api_key.created',
      organizationId: actor.organizationId,
      actorUserId: actor.userId,
      targetType: 'api_key',
      targetId: created.id,
      ipAddress: meta.ipAddress,
      metadata: { prefix, scopes: created.scopes },
    })
    return created
  })
  return { apiKey, key }
}

export async function listApiKeys(deps: CoreDeps, actor: ActingMember, page: PageRequest) {
  const query = pageQuery(page, NEWEST_FIRST)
  const rows = await withTenant(deps.db, actor, (tx) =>
    tx.apiKey.findMany({ ...query, where: { revokedAt: null, ...query.where } }),
  )
  return toPage(rows, page, NEWEST_FIRST)
}

export async function revokeApiKey(
  deps: CoreDeps,
  actor: ActingMember,
  input: { apiKeyId: string },
  meta: RequestMeta = {},
) {
  await withTenant(deps.db, actor, async (tx) => {
    const { count } = await tx.apiKey.updateMany({
      where: { id: input.apiKeyId, revokedAt: null },
      data: { revokedAt: new Date() },
    })
    if (count === 0) throw errors.notFound('The API key')
    await recordAudit(tx, {
      action: 'api_key.revoked',
      organizationId: actor.organizationId,
      actorUserId: actor.userId,
      targetType: 'api_key',
      targetId: input.apiKeyId,
      ipAddress: meta.ipAddress,
    })
  })
}

/**
 * Replaces a key's secret: its id, name, prefix and scopes stay, the old value stops
 * working at once (only the hash of the new one is stored). The new full key is returned
 * once. A revoked key is "not found". With `unlessRotatedWithinMs` (an operator
 * re-running `pnpm ops`), a key rotated that recently is left alone: 409 `recently_rotated`.
 */
export async function rotateApiKey(
  deps: Pick<CoreDeps, 'db'>,
  actor: OrganizationActor,
  input: { apiKeyId: string; unlessRotatedWithinMs?: number },
  meta: RequestMeta = {},
) {
  return withTenant(deps.db, actor, async (tx) => {
    const current = await tx.apiKey.findFirst({
      where: { id: input.apiKeyId, revokedAt: null },
      select: { prefix: true, secretRotatedAt: true },
    })
    if (!current) throw errors.notFound('The API key')
    const now = new Date()
    const since = current.secretRotatedAt
    if (
      input.unlessRotatedWithinMs !== undefined &&
      since &&
      now.getTime() - since.getTime() < input.unlessRotatedWithinMs
    )
      throw errors.conflict(
        'recently_rotated',
        `The API key's secret was rotated at ${since.toISOString()}.`,
      )
    const key = `gw_${current.prefix}_${generateSecret()}`
    // Conditional on the state just read: a concurrent rotation or revocation wins.
    const [apiKey] = await tx.apiKey.updateManyAndReturn({
      where: { id: input.apiKeyId, revokedAt: null, secretRotatedAt: since },
      data: { secretHash: hashSecret(key), secretRotatedAt: now },
    })
    if (!apiKey)
      throw errors.conflict('concurrent_change', 'The API key changed meanwhile; try again.')
    await recordAudit(tx, {
      action: 'api_key.secret_rotated',
      organizationId: actor.organizationId,
      ...auditActor(actor),
      targetType: 'api_key',
      targetId: apiKey.id,
      ipAddress: meta.ipAddress,
      metadata: { prefix: apiKey.prefix },
    })
    return { apiKey, key }
  })
}

/**
 * The key's organization and scopes, or null when the key is malformed, unknown, revoked
 * or expired. Found by the hash of the presented key (row-level security's secret
 * policy); its last use is recorded at most once a minute.
 */
export async function authenticateApiKey(deps: CoreDeps, key: string) {
  if (!KEY_FORMAT.test(key)) return null
  const secretHash = hashSecret(key)
  const apiKey = await withPresentedSecret(deps.db, secretHash, (tx) =>
    tx.apiKey.findUnique({ where: { secretHash } }),
  )
  const now = new Date()
  if (!apiKey || apiKey.revokedAt || (apiKey.expiresAt && apiKey.expiresAt <= now)) return null
  if (!apiKey.lastUsedAt || now.getTime() - apiKey.lastUsedAt.getTime() > 60_000) {
    await withTenant(deps.db, { organizationId: apiKey.organizationId }, (tx) =>
      tx.apiKey.update({ where: { id: apiKey.id }, data: { lastUsedAt: now } }),
    )
  }
  return {
    id: apiKey.id,
    organizationId: apiKey.organizationId,
    scopes: apiKey.scopes,
    createdById: apiKey.createdById,
  }
}
