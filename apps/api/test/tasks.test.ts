import { purgeOrganization } from '@repo/core'
import { describe, expect, it } from 'vitest'
import { addMember, signUpOwner, useApiServer } from './helpers.ts'

// Tasks: title, description, status, priority, an assignee who must be a member, a due
// date. Filters, sorts (nullable and enum keys) with keyset pagination, and what removing
// a member does to their tasks.
const { server, sql } = useApiServer()

type Headers = Record<string, string>

async function projectOf(name = 'Tracker') {
  const owner = await signUpOwner(server)
  const project = await server.inject({
    method: 'POST',
    url: `/v1/orgs/${owner.orgId}/projects`,
    headers: owner.headers,
    payload: { name },
  })
  const tasksUrl = `/v1/orgs/${owner.orgId}/projects/${project.json().id}/tasks`
  return { ...owner, projectId: project.json().id as string, tasksUrl }
}

const add = (url: string, headers: Headers, payload: object) =>
  server.inject({ method: 'POST', url, headers, payload })

async function walk(url: string, headers: Headers) {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const res = await server.inject({ url: `${url}${cursor ? `&cursor=${cursor}` : ''}`, headers })
    expect(res.statusCode, res.body).toBe(200)
    const page = res.json() as { data: Array<{ id: string }>; nextCursor: string | null }
    ids.push(...page.data.map((t) => t.id))
    cursor = page.nextCursor
  } while (cursor)
  return ids
}

describe('tasks', () => {
  it('are created with defaults, an ETag and a Location', async () => {
    const { headers, tasksUrl, projectId } = await projectOf()
    const res = await add(tasksUrl, headers, { title: ' Write the spec ', dueDate: '2030-02-28' })
    expect(res.statusCode, res.body).toBe(201)
    expect(res.json()).toMatchObject({
      projectId,
      title: 'Write the spec',
      description: '',
      status: 'todo',
      priority: 'medium',
      assigneeId: null,
      dueDate: '2030-02-28',
      version: 1,
    })
    expect(res.headers.etag).toBe('"1"')
    const read = await server.inject({ url: res.headers.location as string, headers })
    expect(read.json()).toEqual(res.json())
  })

  it('refuse impossible dates, unknown values and fields, and bad ids', async () => {
    const { headers, tasksUrl, orgId } = await projectOf()
    const cases: Array<[object, string]> = [
      [{ title: 'x', dueDate: '2030-02-30' }, 'body.dueDate'],
      [{ title: 'x', dueDate: '30/01/2030' }, 'body.dueDate'],
      [{ title: 'x', priority: 'critical' }, 'body.priority'],
      [{ title: 'x', status: 'DONE' }, 'body.status'],
      [{ title: 'x', assigneeId: 'me' }, 'body.assigneeId'],
      [{ title: 't'.repeat(201) }, 'body.title'],
      [{ title: 'x', projectId: crypto.randomUUID() }, 'body'],
    ]
    for (const [payload, field] of cases) {
      const res = await add(tasksUrl, headers, payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(JSON.stringify(res.json().errors)).toContain(field)
    }
    const ghostProject = `/v1/orgs/${orgId}/projects/${crypto.randomUUID()}/tasks`
    expect((await add(ghostProject, headers, { title: 'x' })).statusCode).toBe(404)
    expect((await server.inject({ url: `${ghostProject}?limit=5`, headers })).statusCode).toBe(404)
  })

  it('take only members of the organization as assignees', async () => {
    const { headers, tasksUrl, orgId, userId } = await projectOf()
    const member = await addMember(server, sql, orgId)
    const stranger = await signUpOwner(server, 'Elsewhere')
    const refused = await add(tasksUrl, headers, { title: 'x', assigneeId: stranger.userId })
    expect(refused.statusCode).toBe(422)
    expect(refused.json().errors).toEqual([
      { field: 'body.assigneeId', message: 'is not a member of this organization' },
    ])
    const task = (await add(tasksUrl, headers, { title: 'x', assigneeId: member.userId })).json()
    expect(task.assigneeId).toBe(member.userId)
    const reassign = await server.inject({
      method: 'PATCH',
      url: `${tasksUrl}/${task.id}`,
      headers: { ...headers, 'if-match': '"1"' },
      payload: { assigneeId: stranger.userId },
    })
    expect(reassign.statusCode).toBe(422)
    // The database refuses it too, whoever writes: the (organization, assignee) reference.
    await expect(
      sql('UPDATE tasks SET assignee_id = $1 WHERE id = $2', [stranger.userId, task.id]),
    ).rejects.toThrow(/foreign key/)
    const self = await server.inject({
      method: 'PATCH',
      url: `${tasksUrl}/${task.id}`,
      headers: { ...headers, 'if-match': '"1"' },
      payload: { assigneeId: userId, status: 'in_progress', dueDate: null },
    })
    expect(self.json()).toMatchObject({ assigneeId: userId, status: 'in_progress', version: 2 })
  })

  it('of a removed member become unassigned, and nothing else changes', async () => {
    const { headers, tasksUrl, orgId } = await projectOf()
    const member = await addMember(server, sql, orgId)
    const ids: string[] = []
    for (const title of ['one', 'two'])
      ids.push((await add(tasksUrl, headers, { title, assigneeId: member.userId })).json().id)
    const removed = await server.inject({
      method: 'DELETE',
      url: `/v1/orgs/${orgId}/members/${member.userId}`,
      headers,
    })
    expect(removed.statusCode).toBe(204)
    for (const id of ids) {
      const task = (await server.inject({ url: `${tasksUrl}/${id}`, headers })).json()
      expect(task).toMatchObject({ assigneeId: null, version: 2 })
    }
  })

  it('filter by status, priority, assignee and due date', async () => {
    const { headers, tasksUrl, orgId, userId } = await projectOf()
    const member = await addMember(server, sql, orgId)
    const specs = [
      { title: 'a', status: 'done', priority: 'high', assigneeId: userId, dueDate: '2030-01-01' },
      { title: 'b', status: 'todo', priority: 'high', assigneeId: member.userId },
      { title: 'c', status: 'todo', priority: 'low', dueDate: '2030-03-01' },
      { title: 'd', status: 'canceled', priority: 'urgent', dueDate: '2029-12-31' },
    ]
    const id: Record<string, string> = {}
    for (const spec of specs) id[spec.title] = (await add(tasksUrl, headers, spec)).json().id
    const titles = async (query: string) =>
      (await walk(`${tasksUrl}?limit=100&sort=title&${query}`, headers)).map(
        (taskId) => Object.entries(id).find(([, v]) => v === taskId)?.[0],
      )
    expect(await titles('status=todo')).toEqual(['b', 'c'])
    expect(await titles('priority=high')).toEqual(['a', 'b'])
    expect(await titles(`assigneeId=${member.userId}`)).toEqual(['b'])
    expect(await titles('assigneeId=none')).toEqual(['c', 'd'])
    expect(await titles('dueBefore=2030-01-01')).toEqual(['a', 'd'])
    expect(await titles('status=todo&priority=low')).toEqual(['c'])
    expect((await server.inject({ url: `${tasksUrl}?status=all`, headers })).statusCode).toBe(400)
  })

  it('sort by due date (empty last ascending) and priority across small pages', async () => {
    const { headers, tasksUrl, projectId } = await projectOf()
    const priorities = ['low', 'urgent', 'medium', 'high']
    for (let i = 0; i < 13; i++) {
      await add(tasksUrl, headers, {
        title: `task ${i}`,
        priority: priorities[i % 4],
        // Every third task has no due date; the others share a few dates (ties).
        ...(i % 3 === 0 ? {} : { dueDate: `2030-01-0${1 + (i % 2)}` }),
      })
    }
    const expected = async (orderBy: string) =>
      (
        (await sql(
          `SELECT array_agg(id::text ORDER BY ${orderBy}) AS ids FROM tasks WHERE project_id = $1`,
          [projectId],
        )) as Array<{ ids: string[] }>
      )[0]?.ids
    for (const [sort, orderBy] of [
      ['dueDate', 'due_date ASC NULLS LAST, id ASC'],
      ['-dueDate', 'due_date DESC NULLS FIRST, id DESC'],
      ['priority', 'priority ASC, id ASC'],
      ['-priority', 'priority DESC, id DESC'],
      ['-createdAt', 'created_at DESC, id DESC'],
    ] as const) {
      for (const limit of [1, 2, 5]) {
        expect(await walk(`${tasksUrl}?limit=${limit}&sort=${sort}`, headers), sort).toEqual(
          await expected(orderBy),
        )
      }
    }
  })

  it('belong to their project: another project or tenant answers 404 and changes nothing', async () => {
    const first = await projectOf('First')
    const task = (await add(first.tasksUrl, first.headers, { title: 'mine' })).json()
    const sibling = await server.inject({
      method: 'POST',
      url: `/v1/orgs/${first.orgId}/projects`,
      headers: first.headers,
      payload: { name: 'Sibling' },
    })
    const wrongProject = `/v1/orgs/${first.orgId}/projects/${sibling.json().id}/tasks/${task.id}`
    expect((await server.inject({ url: wrongProject, headers: first.headers })).statusCode).toBe(
      404,
    )
    const other = await projectOf('Other')
    const foreign = `${other.tasksUrl}/${task.id}`
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await server.inject({
        method,
        url: foreign,
        headers: { ...other.headers, 'if-match': '"1"' },
        ...(method === 'PATCH' ? { payload: { title: 'stolen' } } : {}),
      })
      expect(res.statusCode, method).toBe(404)
    }
    const intact = await server.inject({
      url: `${first.tasksUrl}/${task.id}`,
      headers: first.headers,
    })
    expect(intact.json()).toMatchObject({ title: 'mine', version: 1 })
    const deleted = await server.inject({
      method: 'DELETE',
      url: `${first.tasksUrl}/${task.id}`,
      headers: first.headers,
    })
    expect(deleted.statusCode).toBe(204)
  })
})

describe('edges found by review', () => {
  it('deleting an organization with assigned tasks works, and takes everything with it', async () => {
    const { headers, tasksUrl, orgId, userId } = await projectOf('Doomed org')
    await add(tasksUrl, headers, { title: 'assigned', assigneeId: userId })
    const res = await server.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}`, headers })
    expect(res.statusCode, res.body).toBe(202)
    // What the worker's job does (apps/worker/test/tenant-data.test.ts), one row at a time.
    await purgeOrganization(
      { db: server.db },
      { organizationId: orgId, requestedBy: userId },
      { batchSize: 1 },
    )
    expect(await sql('SELECT id FROM tasks WHERE organization_id = $1', [orgId])).toEqual([])
    expect(await sql('SELECT id FROM organizations WHERE id = $1', [orgId])).toEqual([])
  })

  it('pages through long titles by title', async () => {
    const { headers, tasksUrl } = await projectOf()
    for (const letter of ['a', 'b', 'c', 'd'])
      await add(tasksUrl, headers, { title: `${letter}${'é"\\'.repeat(66)}` })
    const ids = await walk(`${tasksUrl}?limit=1&sort=-title`, headers)
    expect(ids).toHaveLength(4)
  })

  it('refuses forged cursors and out-of-range dates with 400, never 500', async () => {
    const { headers, tasksUrl, orgId } = await projectOf()
    const cursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url')
    const urls = [
      `${tasksUrl}?cursor=${cursor(['-createdAt', '2030-01-01T00:00:00Z', '-'.repeat(36)])}`,
      `${tasksUrl}?sort=title&cursor=${cursor(['title', 'a\u0000b', crypto.randomUUID()])}`,
      `${tasksUrl}?cursor=${cursor(['-createdAt', '-200000-01-01T00:00:00Z', crypto.randomUUID()])}`,
      `${tasksUrl}?sort=dueDate&cursor=${cursor(['dueDate', '+275760-09-13T00:00:00Z', crypto.randomUUID()])}`,
      `${tasksUrl}?dueBefore=0000-01-01`,
      `/v1/orgs/${orgId}/projects?search=a%00b`,
    ]
    for (const url of urls) {
      const res = await server.inject({ url, headers })
      expect(res.statusCode, url).toBe(400)
    }
    const res = await add(tasksUrl, headers, { title: 'year zero', dueDate: '0000-01-01' })
    expect(res.statusCode).toBe(400)
  })
})
