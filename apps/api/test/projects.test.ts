import { describe, expect, it } from 'vitest'
import { addMember, signUpOwner, useApiServer } from './helpers.ts'

// Projects: the example domain's parent resource. CRUD, unique names, filters and sorts
// with keyset pagination, and optimistic concurrency through ETag / If-Match.
const { server, sql } = useApiServer()

type Headers = Record<string, string>
const create = (orgId: string, headers: Headers, payload: object) =>
  server.inject({ method: 'POST', url: `/v1/orgs/${orgId}/projects`, headers, payload })

async function walk(url: string, headers: Headers) {
  const names: string[] = []
  let cursor: string | null = null
  do {
    const res = await server.inject({
      url: `${url}${cursor ? `&cursor=${cursor}` : ''}`,
      headers,
    })
    expect(res.statusCode, res.body).toBe(200)
    const page = res.json() as { data: Array<{ name: string }>; nextCursor: string | null }
    names.push(...page.data.map((p) => p.name))
    cursor = page.nextCursor
  } while (cursor)
  return names
}

describe('projects', () => {
  it('are created with an ETag and a Location, read back, and unique by name', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const res = await create(orgId, headers, {
      name: '  Launch  ',
      description: 'Line one\nline two',
    })
    expect(res.statusCode, res.body).toBe(201)
    const project = res.json()
    expect(project).toMatchObject({
      name: 'Launch',
      description: 'Line one\nline two',
      status: 'active',
      version: 1,
    })
    expect(res.headers.etag).toBe('"1"')
    expect(res.headers.location).toBe(`/v1/orgs/${orgId}/projects/${project.id}`)

    const read = await server.inject({ url: res.headers.location as string, headers })
    expect(read.statusCode).toBe(200)
    expect(read.json()).toEqual(project)

    const duplicate = await create(orgId, headers, { name: 'Launch' })
    expect(duplicate.statusCode).toBe(409)
    expect(duplicate.headers['content-type']).toContain('application/problem+json')
    // Another organization may use the same name.
    const other = await signUpOwner(server)
    expect((await create(other.orgId, other.headers, { name: 'Launch' })).statusCode).toBe(201)
  })

  it('refuse bad input with the field named, and unknown fields', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const cases: Array<[object, string]> = [
      [{}, 'body.name'],
      [{ name: '   ' }, 'body.name'],
      [{ name: 'x'.repeat(101) }, 'body.name'],
      [{ name: 'ok', description: 'y'.repeat(2001) }, 'body.description'],
      [{ name: 'nul\u0000byte' }, 'body.name'],
      [{ name: 'ok', description: 'bell\u0007' }, 'body.description'],
      [{ name: 'ok', status: 'deleted' }, 'body.status'],
      [{ name: 42 }, 'body.name'],
      [{ name: 'ok', organizationId: orgId }, 'body'],
    ]
    for (const [payload, field] of cases) {
      const res = await create(orgId, headers, payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(JSON.stringify(res.json().errors), JSON.stringify(payload)).toContain(field)
    }
    const malformed = await server.inject({ url: `/v1/orgs/${orgId}/projects/nope`, headers })
    expect(malformed.statusCode).toBe(400)
  })

  it('store hostile strings as text, and search treats them literally', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const names = ["Robert'); DROP TABLE projects;--", '100% done_', 'Plain']
    for (const name of names) expect((await create(orgId, headers, { name })).statusCode).toBe(201)
    const search = async (term: string) =>
      (
        await server.inject({
          url: `/v1/orgs/${orgId}/projects?search=${encodeURIComponent(term)}`,
          headers,
        })
      )
        .json()
        .data.map((p: { name: string }) => p.name)
    expect(await search('drop table')).toEqual([names[0]])
    expect(await search('%')).toEqual([names[1]])
    expect(await search('_')).toEqual([names[1]])
    expect(await search("'")).toEqual([names[0]])
    const [{ count }] = (await sql('SELECT count(*)::int AS count FROM projects')) as [
      { count: number },
    ]
    expect(count).toBeGreaterThanOrEqual(3)
  })

  it('filter by status and sort by name or age, across pages, each row once', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const names = ['delta', 'Alpha', 'charlie', 'bravo', 'echo', 'foxtrot', 'golf']
    for (const name of names) await create(orgId, headers, { name })
    // Same created_at for all: the id breaks ties.
    await sql("UPDATE projects SET created_at = '2030-01-01' WHERE organization_id = $1", [orgId])
    await sql("UPDATE projects SET status = 'archived' WHERE name IN ('echo', 'golf')")
    const base = `/v1/orgs/${orgId}/projects?limit=2`
    const byName = await walk(`${base}&sort=name`, headers)
    const [{ collated }] = (await sql(
      'SELECT array_agg(name ORDER BY name, id) AS collated FROM projects WHERE organization_id = $1',
      [orgId],
    )) as [{ collated: string[] }]
    expect(byName).toEqual(collated)
    expect(await walk(`${base}&sort=-name`, headers)).toEqual([...collated].reverse())
    const byAge = await walk(`${base}&sort=createdAt`, headers)
    expect(new Set(byAge).size).toBe(names.length)
    expect(await walk(`${base}&sort=-createdAt`, headers)).toEqual([...byAge].reverse())
    expect((await walk(`${base}&status=archived&sort=name`, headers)).sort()).toEqual([
      'echo',
      'golf',
    ])

    // A cursor belongs to its sort; mixing them is refused, not silently wrong.
    const first = await server.inject({ url: `${base}&sort=name`, headers })
    const mixed = await server.inject({
      url: `${base}&sort=-createdAt&cursor=${first.json().nextCursor}`,
      headers,
    })
    expect(mixed.statusCode).toBe(400)
    expect((await server.inject({ url: `${base}&sort=secret`, headers })).statusCode).toBe(400)
    expect((await server.inject({ url: `${base}&color=red`, headers })).statusCode).toBe(400)
  })
})

describe('changing a project', () => {
  it('needs If-Match: 428 without, 412 when stale, 200 and a new ETag when current', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const project = (await create(orgId, headers, { name: 'Versioned' })).json()
    const url = `/v1/orgs/${orgId}/projects/${project.id}`
    const patch = (ifMatch: string | undefined, payload: object) =>
      server.inject({
        method: 'PATCH',
        url,
        headers: { ...headers, ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) },
        payload,
      })

    const missing = await patch(undefined, { name: 'Renamed' })
    expect(missing.statusCode).toBe(428)
    expect(missing.json().detail).toContain('If-Match')
    expect((await patch('W/"1"', { name: 'Renamed' })).statusCode).toBe(400)

    const ok = await patch('"1"', { name: 'Renamed', status: 'archived' })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json()).toMatchObject({ name: 'Renamed', status: 'archived', version: 2 })
    expect(ok.headers.etag).toBe('"2"')

    const stale = await patch('"1"', { name: 'Lost update' })
    expect(stale.statusCode).toBe(412)
    expect(stale.json().detail).toContain('version 2')
    expect((await server.inject({ url, headers })).json().name).toBe('Renamed')
    // `*` means "whatever the current version is".
    expect((await patch('*', { description: 'Forced' })).json().version).toBe(3)
  })

  it('lets exactly one of two concurrent writers of the same version win', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const project = (await create(orgId, headers, { name: 'Contended' })).json()
    const url = `/v1/orgs/${orgId}/projects/${project.id}`
    const results = await Promise.all(
      ['First', 'Second', 'Third', 'Fourth'].map((description) =>
        server.inject({
          method: 'PATCH',
          url,
          headers: { ...headers, 'if-match': '"1"' },
          payload: { description },
        }),
      ),
    )
    const codes = results.map((r) => r.statusCode).sort()
    expect(codes).toEqual([200, 412, 412, 412])
    const winner = results.find((r) => r.statusCode === 200)?.json().description
    const [row] = (await sql('SELECT description, version FROM projects WHERE id = $1', [
      project.id,
    ])) as Array<{ description: string; version: number }>
    expect(row).toEqual({ description: winner, version: 2 })
  })

  it('maps a rename onto a taken name to 409, and unknown ids to 404', async () => {
    const { headers, orgId } = await signUpOwner(server)
    await create(orgId, headers, { name: 'Taken' })
    const project = (await create(orgId, headers, { name: 'Free' })).json()
    const rename = await server.inject({
      method: 'PATCH',
      url: `/v1/orgs/${orgId}/projects/${project.id}`,
      headers: { ...headers, 'if-match': '"1"' },
      payload: { name: 'Taken' },
    })
    expect(rename.statusCode).toBe(409)
    const missing = await server.inject({
      method: 'PATCH',
      url: `/v1/orgs/${orgId}/projects/${crypto.randomUUID()}`,
      headers: { ...headers, 'if-match': '"1"' },
      payload: { name: 'Ghost' },
    })
    expect(missing.statusCode).toBe(404)
  })

  it('deletes a project with its tasks in one go (admins), honouring If-Match when sent', async () => {
    const { headers, orgId } = await signUpOwner(server)
    const project = (await create(orgId, headers, { name: 'Doomed' })).json()
    const url = `/v1/orgs/${orgId}/projects/${project.id}`
    for (const title of ['a', 'b', 'c'])
      await server.inject({ method: 'POST', url: `${url}/tasks`, headers, payload: { title } })
    const member = await addMember(server, sql, orgId)
    expect(
      (await server.inject({ method: 'DELETE', url, headers: member.headers })).statusCode,
    ).toBe(403)
    const stale = await server.inject({
      method: 'DELETE',
      url,
      headers: { ...headers, 'if-match': '"7"' },
    })
    expect(stale.statusCode).toBe(412)
    expect((await server.inject({ method: 'DELETE', url, headers })).statusCode).toBe(204)
    expect((await server.inject({ url, headers })).statusCode).toBe(404)
    expect(await sql('SELECT id FROM tasks WHERE project_id = $1', [project.id])).toEqual([])
    const audit = await sql(
      "SELECT metadata FROM audit_logs WHERE action = 'project.deleted' AND target_id = $1",
      [project.id],
    )
    expect(audit).toEqual([{ metadata: { name: 'Doomed' } }])
  })
})
