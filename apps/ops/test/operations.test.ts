import {
  clearLockouts,
  endMaintenance,
  InvalidMaintenanceState,
  MAINTENANCE_KEY,
  readMaintenance,
  redisAccessChanges,
  resourceOrganization,
  revokeUserSessions,
  rotateApiKey,
  rotateWebhookSecret,
  startMaintenance,
} from '@repo/core'
import { createDatabaseClient, type PrismaClient } from '@repo/db'
import { useIsolatedServices } from '@repo/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditEntries, ownerQuery } from './helpers.ts'

// The operator's actions in core, called directly against real Postgres (the worker's
// login, as the CLI connects) and Redis: the parts the CLI runs only one way.
const services = useIsolatedServices()
let db: PrismaClient
let appDb: PrismaClient
let redis: Redis
const owner = <T = Record<string, unknown>>(sql: string, values: unknown[] = []) =>
  ownerQuery<T>(services().database.url, sql, values)
const client = (url: string) =>
  createDatabaseClient({
    DATABASE_URL: url,
    DATABASE_POOL_MAX: 2,
    DATABASE_CONNECT_TIMEOUT_MS: 5_000,
    DATABASE_STATEMENT_TIMEOUT_MS: 10_000,
  })
beforeAll(() => {
  db = client(services().database.workerUrl)
  appDb = client(services().database.appUrl)
  redis = new Redis(services().redis.url, { maxRetriesPerRequest: 1 })
})
afterAll(async () => {
  redis?.disconnect()
  await Promise.all([db?.$disconnect(), appDb?.$disconnect()])
})

/** An organization with a member and one API key, made as the owner. */
async function keyOfNewOrganization() {
  const [user] = await owner<{ id: string }>(
    `INSERT INTO users (id, email, name, updated_at)
     VALUES (gen_random_uuid(), 'k-' || gen_random_uuid() || '@example.com', 'K', now()) RETURNING id`,
  )
  const [org] = await owner<{ id: string }>(
    `INSERT INTO organizations (id, name, updated_at) VALUES (gen_random_uuid(), 'K', now()) RETURNING id`,
  )
  await owner(
    `INSERT INTO memberships (id, organization_id, user_id, role, updated_at)
     VALUES (gen_random_uuid(), $1, $2, 'owner', now())`,
    [org?.id, user?.id],
  )
  const [key] = await owner<{ id: string }>(
    `INSERT INTO api_keys (id, organization_id, name, prefix, secret_hash, scopes, created_by_id)
     VALUES (gen_random_uuid(), $1, 'ci', substr(md5(random()::text), 1, 12), md5(random()::text) || md5(random()::text), '{organization:read}', $2)
     RETURNING id`,
    [org?.id, user?.id],
  )
  return { userId: user?.id as string, organizationId: org?.id as string, keyId: key?.id as string }
}

describe('the audit log', () => {
  it('names one actor at most: a user or an operator, never both', async () => {
    await expect(
      owner(
        `INSERT INTO audit_logs (id, action, actor_user_id, actor_operator)
         VALUES (gen_random_uuid(), 'x', gen_random_uuid(), 'alice')`,
      ),
    ).rejects.toThrow(/audit_logs_one_actor/)
    await expect(
      owner(
        `INSERT INTO audit_logs (id, action, actor_operator) VALUES (gen_random_uuid(), 'x', '  ')`,
      ),
    ).rejects.toThrow(/audit_logs_actor_operator_not_blank/)
  })
})

describe('resourceOrganization', () => {
  it("answers a key's organization to the worker's login only", async () => {
    const { organizationId, keyId } = await keyOfNewOrganization()
    expect(await resourceOrganization({ db }, 'api_key', keyId)).toBe(organizationId)
    expect(await resourceOrganization({ db }, 'webhook_endpoint', keyId)).toBeNull()
    expect(await resourceOrganization({ db }, 'api_key', 'nope')).toBeNull()
    // The API's login (facing the internet) may not ask across tenants.
    await expect(resourceOrganization({ db: appDb }, 'api_key', keyId)).rejects.toThrow(
      /permission denied/,
    )
  })
})

describe('rotateApiKey', () => {
  it('records a member as the actor when a member rotates, and refuses a repeat within the window', async () => {
    const { userId, organizationId, keyId } = await keyOfNewOrganization()
    const member = { organizationId, userId, role: 'owner' as const }
    const first = await rotateApiKey({ db }, member, { apiKeyId: keyId })
    const [row] = await owner<{ prefix: string; secret_rotated_at: Date }>(
      'SELECT prefix, secret_rotated_at FROM api_keys WHERE id = $1',
      [keyId],
    )
    expect(first.key.startsWith(`gw_${row?.prefix}_`)).toBe(true)
    expect(row?.secret_rotated_at).toBeInstanceOf(Date)
    const entries = (await auditEntries(services().database.url, 'api_key.secret_rotated')).filter(
      (e) => e.target_id === keyId,
    )
    expect(entries).toEqual([
      expect.objectContaining({ actor_user_id: userId, actor_operator: null }),
    ])
    await expect(
      rotateApiKey(
        { db },
        { organizationId, operator: 'x' },
        { apiKeyId: keyId, unlessRotatedWithinMs: 60_000 },
      ),
    ).rejects.toMatchObject({ code: 'recently_rotated', status: 409 })
    // Another organization's context cannot see it: "not found".
    const other = await keyOfNewOrganization()
    await expect(
      rotateApiKey(
        { db },
        { organizationId: other.organizationId, operator: 'x' },
        { apiKeyId: keyId },
      ),
    ).rejects.toMatchObject({ code: 'not_found' })
  })
})

describe('rotateWebhookSecret', () => {
  it('for an operator, leaves an endpoint alone while its previous secret is in its grace period', async () => {
    const { organizationId } = await keyOfNewOrganization()
    const [endpoint] = await owner<{ id: string }>(
      `INSERT INTO webhook_endpoints (id, organization_id, url, events, secret, updated_at)
       VALUES (gen_random_uuid(), $1, 'https://93.184.215.14/h', '{project.created}', '\\x01', now())
       RETURNING id`,
      [organizationId],
    )
    const deps = {
      db,
      secretsKey: Buffer.from('groundwork-development-only-key!', 'utf8'),
      webhooks: { secretGraceMs: 60_000 },
    }
    const actor = { organizationId, operator: 'jo' }
    const input = { endpointId: endpoint?.id as string, unlessInGrace: true }
    await rotateWebhookSecret(deps, actor, input)
    await expect(rotateWebhookSecret(deps, actor, input)).rejects.toMatchObject({
      code: 'rotation_in_grace',
    })
    // Without the guard (the API's admins, or --force) it rotates again.
    await expect(
      rotateWebhookSecret(deps, actor, { endpointId: input.endpointId }),
    ).resolves.toMatchObject({ secret: expect.stringMatching(/^whsec_/) })
  })
})

describe('revokeUserSessions', () => {
  it('records nothing when there was nothing to revoke', async () => {
    const { userId } = await keyOfNewOrganization()
    expect(
      await revokeUserSessions(
        { db, accessChanges: redisAccessChanges({ redis, logger: console }) },
        { operator: 'kim' },
        { userId },
      ),
    ).toEqual({
      revoked: 0,
    })
    const entries = await auditEntries(services().database.url, 'session.revoked_all')
    expect(entries.filter((e) => e.target_id === userId)).toEqual([])
  })
})

describe('maintenance windows', () => {
  const actor = { operator: 'gina' }
  it('opens, reports an open window unchanged, changes it keeping its start, and closes', async () => {
    const now = Date.now()
    const opened = await startMaintenance({ db, redis }, actor, { durationMs: 60_000 }, now)
    expect(opened).toMatchObject({ changed: true, started: true })
    expect(await readMaintenance(redis)).toEqual(opened.window)
    expect(await redis.pttl(MAINTENANCE_KEY)).toBeGreaterThan(55_000)

    const same = await startMaintenance({ db, redis }, actor, {}, now + 1_000)
    expect(same).toMatchObject({ changed: false, window: opened.window })
    const longer = await startMaintenance(
      { db, redis },
      { operator: 'hank' },
      { message: 'Longer.', durationMs: 120_000 },
      now + 2_000,
    )
    expect(longer.window).toMatchObject({
      since: opened.window.since,
      message: 'Longer.',
      operator: 'hank',
    })
    expect(Date.parse(longer.window.until)).toBe(now + 122_000)
    // Past its end a window is over, even before Redis lets the key go.
    expect(await readMaintenance(redis, now + 122_000)).toBeNull()

    expect(await endMaintenance({ db, redis }, actor)).toMatchObject({ message: 'Longer.' })
    expect(await redis.exists(MAINTENANCE_KEY)).toBe(0)
    expect(await endMaintenance({ db, redis }, actor)).toBeNull()
    // This test's operators (another test opens and closes windows as lee).
    const mine = async (action: string) =>
      (await auditEntries(services().database.url, action))
        .map((e) => e.actor_operator)
        .filter((name) => name !== 'lee')
    expect(await mine('maintenance.started')).toEqual(['gina'])
    expect(await mine('maintenance.changed')).toEqual(['hank'])
    expect(await mine('maintenance.ended')).toEqual(['gina'])
  })

  it('refuses to guess at a value that is no window, and lengths over a day', async () => {
    const actor = { operator: 'lee' }
    await redis.set(MAINTENANCE_KEY, 'on')
    await expect(readMaintenance(redis)).rejects.toBeInstanceOf(InvalidMaintenanceState)
    // Replaced by a real window, or cleared.
    await startMaintenance({ db, redis }, actor, {})
    expect(await readMaintenance(redis)).not.toBeNull()
    await endMaintenance({ db, redis }, actor)
    await expect(
      startMaintenance({ db, redis }, actor, { durationMs: 25 * 3_600_000 }),
    ).rejects.toThrow(RangeError)
  })
})

describe('clearLockouts', () => {
  it("clears only the named subject's counters, in every bucket", async () => {
    const keys = {
      mine: [
        'groundwork:rl:ip:default:600::192.0.2.1',
        'groundwork:rl:ip:POST:/v1/auth/sign-in:10::192.0.2.1',
      ],
      others: [
        'groundwork:rl:ip:default:600::192.0.2.10',
        'groundwork:rl:ip:default:600::192.0.2.1x',
        'groundwork:rl:user:default:300::user:192.0.2.1',
        'groundwork:signin-known:abc',
      ],
    }
    for (const key of [...keys.mine, ...keys.others]) await redis.set(key, '5', 'EX', 60)
    const result = await clearLockouts({ db, redis }, { operator: 'ivy' }, { network: '192.0.2.1' })
    expect(result.cleared).toEqual(['rate limits of 192.0.2.1'])
    for (const key of keys.mine) expect(await redis.exists(key), key).toBe(0)
    for (const key of keys.others) expect(await redis.exists(key), key).toBe(1)
    // The whole subject, not its end: 92.0.2.1 is not 192.0.2.1.
    await redis.set(keys.mine[0] as string, '5', 'EX', 60)
    await clearLockouts({ db, redis }, { operator: 'ivy' }, { network: '92.0.2.1' })
    expect(await redis.exists(keys.mine[0] as string)).toBe(1)
    // A subject holding glob characters matches only itself.
    await redis.set('groundwork:rl:ip:default:600::a*', '1', 'EX', 60)
    await redis.set('groundwork:rl:ip:default:600::ab', '1', 'EX', 60)
    await clearLockouts({ db, redis }, { operator: 'ivy' }, { network: 'a*' })
    expect(await redis.exists('groundwork:rl:ip:default:600::ab')).toBe(1)
    expect(await redis.exists('groundwork:rl:ip:default:600::a*')).toBe(0)
  })
})
