import { useIsolatedServices } from '@repo/testing'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

// The outbox's trigger (migrations 20261202130000_outbox_notify_on_commit, ADR 038, and
// 20261204140000_outbox_notify_only_when_inserted): a statement that inserts outbox
// messages notifies the channel the workers listen on, delivered at commit, once per
// transaction, with nothing of the message in it; one that inserts none says nothing.
const services = useIsolatedServices()
const CHANNEL = 'outbox_messages'
let listener: pg.Client
let owner: pg.Client
let app: pg.Client
const heard: pg.Notification[] = []

beforeAll(async () => {
  const { database } = services()
  listener = new pg.Client({ connectionString: database.url })
  owner = new pg.Client({ connectionString: database.url })
  // The application's login (row-level security, no definer function): as the API writes.
  app = new pg.Client({ connectionString: database.appUrl })
  await Promise.all([listener.connect(), owner.connect(), app.connect()])
  listener.on('notification', (notification) => heard.push(notification))
  await listener.query(`LISTEN ${CHANNEL}`)
})
afterAll(async () => {
  await Promise.all([listener?.end(), owner?.end(), app?.end()])
})
beforeEach(() => {
  heard.length = 0
})

/**
 * What the listener heard since the last call, up to a marker the owner notifies after
 * everything the test did: notifications arrive in commit order, so once the marker is
 * in, nothing of the test's own is still on its way.
 */
async function heardBeforeMarker() {
  const marker = crypto.randomUUID()
  await owner.query('SELECT pg_notify($1, $2)', [CHANNEL, marker])
  await expect.poll(() => heard.some((n) => n.payload === marker)).toBe(true)
  const upToMarker = heard.splice(0, heard.findIndex((n) => n.payload === marker) + 1)
  return upToMarker.slice(0, -1).map(({ channel, payload }) => ({ channel, payload }))
}

const insert = (rows: number) =>
  app.query(
    `INSERT INTO outbox_messages (id, queue, job_name, data, options)
     SELECT gen_random_uuid(), 'q', 'j', '{}', '{}' FROM generate_series(1, $1::int)`,
    [rows],
  )

describe('the outbox trigger', () => {
  it('notifies once per committed transaction, with an empty payload, however many rows and statements', async () => {
    await app.query('BEGIN')
    await insert(3)
    await insert(1)
    // Nothing before the commit.
    expect(await heardBeforeMarker()).toEqual([])
    await app.query('COMMIT')
    expect(await heardBeforeMarker()).toEqual([{ channel: CHANNEL, payload: '' }])
    // A statement outside a transaction block commits alone: one more.
    await insert(2)
    expect(await heardBeforeMarker()).toEqual([{ channel: CHANNEL, payload: '' }])
  })

  it('says nothing for a transaction that rolls back, nor for the updates and deletes of the relay and sweeper', async () => {
    await app.query('BEGIN')
    await insert(2)
    await app.query('ROLLBACK')
    expect(await heardBeforeMarker()).toEqual([])
    await insert(1)
    expect(await heardBeforeMarker()).toHaveLength(1)
    await owner.query('UPDATE outbox_messages SET published_at = now()')
    await owner.query('DELETE FROM outbox_messages')
    expect(await heardBeforeMarker()).toEqual([])
  })

  it('says nothing for a statement that inserts no row: a webhook event with no subscriber', async () => {
    await insert(0)
    await app.query(
      `INSERT INTO outbox_messages (id, queue, job_name, data, options)
       SELECT gen_random_uuid(), 'q', 'j', '{}', '{}' WHERE EXISTS (SELECT 1 WHERE false)`,
    )
    expect(await heardBeforeMarker()).toEqual([])
    // In a transaction that also inserts a row: one, as before.
    await app.query('BEGIN')
    await insert(0)
    await insert(1)
    await app.query('COMMIT')
    expect(await heardBeforeMarker()).toEqual([{ channel: CHANNEL, payload: '' }])
  })

  it('fires once per statement that inserts, after it', async () => {
    const { rows } = await owner.query(
      "SELECT pg_get_triggerdef(oid) AS definition FROM pg_trigger WHERE tgrelid = 'outbox_messages'::regclass AND NOT tgisinternal",
    )
    expect(rows).toEqual([
      {
        definition:
          'CREATE TRIGGER outbox_messages_notify AFTER INSERT ON public.outbox_messages REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION outbox_messages_notify()',
      },
    ])
  })

  it('runs with the rights of the login that inserts, granted to nobody', async () => {
    const { rows } = await owner.query(
      `SELECT p.prosecdef AS definer, p.proconfig AS config,
         array(SELECT coalesce(r.rolname::text, 'PUBLIC')
               FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
               LEFT JOIN pg_roles r ON r.oid = a.grantee
               WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner) AS grantees
       FROM pg_proc p WHERE p.oid = 'outbox_messages_notify'::regproc`,
    )
    expect(rows).toEqual([
      { definer: false, config: ['search_path=pg_catalog, public, pg_temp'], grantees: [] },
    ])
  })
})
