import { describe, expect, it } from 'vitest'
import { listDeadLettersQuery } from './admin.ts'
import { mfaVerifyInput, signUpInput, stepUpInput } from './auth.ts'
import {
  API_KEY_SCOPES,
  createApiKeyInput,
  createWebhookEndpointInput,
  updateWebhookEndpointInput,
} from './integrations.ts'
import { changeRoleInput, inviteMemberInput, listAuditLogQuery } from './organizations.ts'
import { createProjectInput, listProjectsQuery, updateProjectInput } from './projects.ts'
import { createTaskInput, listTasksQuery, updateTaskInput } from './tasks.ts'

const uuid = '0192f0c1-7a3b-7cde-8f01-23456789abcd'

describe('bodies', () => {
  it('refuse fields they do not know, so a typo is an error and not a silent no-op', () => {
    const signUp = { email: 'ada@example.com', password: 'correct horse', name: 'Ada' }
    expect(signUpInput.safeParse(signUp).success).toBe(true)
    expect(signUpInput.safeParse({ ...signUp, isAdmin: true }).success).toBe(false)
    expect(updateProjectInput.safeParse({ nmae: 'Typo' }).success).toBe(false)
    const polluting = JSON.parse('{ "title": "A", "__proto__": { "isAdmin": true } }')
    expect(updateTaskInput.safeParse(polluting).success).toBe(false)
    expect(updateTaskInput.safeParse({ constructor: 'x' }).success).toBe(false)
  })

  it('trim what people type before the API sees it', () => {
    expect(signUpInput.parse({ email: ' ada@example.com ', password: 'p', name: ' Ada ' })).toEqual(
      { email: 'ada@example.com', password: 'p', name: 'Ada' },
    )
    expect(createProjectInput.parse({ name: '  Launch ', description: ' Soon \n' })).toEqual({
      name: 'Launch',
      description: 'Soon',
    })
  })

  it('need the name to create a project, and nothing to change one', () => {
    expect(createProjectInput.safeParse({ description: 'no name' }).success).toBe(false)
    expect(createProjectInput.safeParse({ name: '   ' }).success).toBe(false)
    expect(updateProjectInput.parse({})).toEqual({})
  })

  it('need the title to create a task; null unassigns and clears the due date', () => {
    expect(createTaskInput.safeParse({ priority: 'high' }).success).toBe(false)
    expect(updateTaskInput.parse({ assigneeId: null, dueDate: null })).toEqual({
      assigneeId: null,
      dueDate: null,
    })
    expect(updateTaskInput.safeParse({ status: 'finished' }).success).toBe(false)
    expect(updateTaskInput.safeParse({ priority: 'URGENT' }).success).toBe(false)
    expect(updateTaskInput.safeParse({ assigneeId: 'none' }).success).toBe(false)
  })

  it('take a role the organization knows', () => {
    expect(changeRoleInput.safeParse({ role: 'admin' }).success).toBe(true)
    expect(changeRoleInput.safeParse({ role: 'superuser' }).success).toBe(false)
    expect(inviteMemberInput.safeParse({ email: 'x@example.com' }).success).toBe(false)
  })
})

describe('two-factor bodies', () => {
  it('need a code or a recovery code to finish a sign-in', () => {
    expect(mfaVerifyInput.safeParse({ mfaToken: 't', code: '123456' }).success).toBe(true)
    expect(mfaVerifyInput.safeParse({ mfaToken: 't', recoveryCode: 'abcd-efgh' }).success).toBe(
      true,
    )
    const neither = mfaVerifyInput.safeParse({ mfaToken: 't', code: '  ' })
    expect(neither.error?.issues.map((issue) => issue.message)).toEqual([
      'code or recoveryCode is required',
    ])
  })

  it('need a second factor or the password to step up', () => {
    expect(stepUpInput.safeParse({ password: 'secret' }).success).toBe(true)
    expect(stepUpInput.safeParse({ code: ' 123456 ' }).data).toEqual({ code: '123456' })
    expect(stepUpInput.safeParse({}).error?.issues.map((issue) => issue.message)).toEqual([
      'code, recoveryCode or password is required',
    ])
  })
})

describe('API keys and webhook endpoints', () => {
  it('grant at least one known scope', () => {
    const key = { name: 'CI', scopes: ['projects:read'] }
    expect(createApiKeyInput.safeParse(key).success).toBe(true)
    expect(createApiKeyInput.safeParse({ ...key, scopes: [] }).success).toBe(false)
    expect(createApiKeyInput.safeParse({ ...key, scopes: ['admin:*'] }).success).toBe(false)
    const tooMany = [...API_KEY_SCOPES, API_KEY_SCOPES[0]]
    expect(createApiKeyInput.safeParse({ ...key, scopes: tooMany }).success).toBe(false)
    expect(createApiKeyInput.safeParse({ ...key, expiresInDays: 0 }).success).toBe(false)
    expect(createApiKeyInput.safeParse({ ...key, expiresInDays: '30' }).success).toBe(false)
  })

  it('subscribe to at least one known event, at a trimmed URL', () => {
    const endpoint = { url: ' https://example.com/hook ', events: ['task.created'] }
    expect(createWebhookEndpointInput.parse(endpoint).url).toBe('https://example.com/hook')
    expect(createWebhookEndpointInput.safeParse({ ...endpoint, events: [] }).success).toBe(false)
    expect(createWebhookEndpointInput.safeParse({ ...endpoint, url: '  ' }).success).toBe(false)
    expect(
      createWebhookEndpointInput.safeParse({ ...endpoint, events: ['task.exploded'] }).success,
    ).toBe(false)
    expect(updateWebhookEndpointInput.parse({ enabled: true })).toEqual({ enabled: true })
  })
})

describe('list queries', () => {
  it('read the page size from the query string, 20 by default, 1 to 100', () => {
    expect(listDeadLettersQuery.parse({})).toEqual({ limit: 20 })
    expect(listDeadLettersQuery.parse({ limit: '50' })).toEqual({ limit: 50 })
    for (const limit of ['0', '101', '2.5', 'ten', '']) {
      expect(listDeadLettersQuery.safeParse({ limit }).success).toBe(false)
    }
  })

  it('sort newest first by default, by a known field either way', () => {
    expect(listProjectsQuery.parse({}).sort).toBe('-createdAt')
    expect(listProjectsQuery.parse({ sort: 'name' }).sort).toBe('name')
    expect(listTasksQuery.parse({ sort: '-priority' }).sort).toBe('-priority')
    for (const sort of ['status', '--name', 'name desc', '-']) {
      expect(listProjectsQuery.safeParse({ sort }).success).toBe(false)
    }
  })

  it('take filters people type as trimmed text, and refuse unknown parameters', () => {
    expect(listProjectsQuery.parse({ search: '  launch ' }).search).toBe('launch')
    expect(listProjectsQuery.safeParse({ search: ' ' }).success).toBe(false)
    expect(listProjectsQuery.safeParse({ q: 'launch' }).success).toBe(false)
    expect(listTasksQuery.parse({ assigneeId: 'none' }).assigneeId).toBe('none')
    expect(listTasksQuery.parse({ assigneeId: uuid }).assigneeId).toBe(uuid)
    expect(listTasksQuery.safeParse({ assigneeId: 'nobody' }).success).toBe(false)
  })
})

describe('the audit log query', () => {
  it('takes an action or a prefix ending in a dot, and nothing a LIKE pattern could use', () => {
    for (const action of ['member.role_changed', 'member.', 'api_key.created', 'api_key.']) {
      expect(listAuditLogQuery.safeParse({ action }).success, action).toBe(true)
    }
    for (const action of ['%', 'member.%', 'member..', '.member', 'Member.', "' OR 1=1 --"]) {
      expect(listAuditLogQuery.safeParse({ action }).success, action).toBe(false)
    }
  })

  it('takes instants with Z or an offset, in years 1 to 9999, since no later than until', () => {
    expect(
      listAuditLogQuery.safeParse({
        since: '2030-01-01T00:00:00+02:00',
        until: '2030-01-01T00:00:00Z',
      }).success,
    ).toBe(true)
    for (const since of ['2030-01-01', '2030-01-01T00:00:00', '0000-12-31T23:00:00Z']) {
      expect(listAuditLogQuery.safeParse({ since }).success, since).toBe(false)
    }
    const reversed = listAuditLogQuery.safeParse({
      since: '2030-01-02T00:00:00Z',
      until: '2030-01-01T00:00:00Z',
    })
    expect(reversed.error?.issues.map((issue) => issue.path)).toEqual([['until']])
  })
})
