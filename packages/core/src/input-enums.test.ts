import {
  MembershipRole,
  ProjectStatus,
  TaskPriority,
  TaskStatus,
  WebhookDeliveryStatus,
} from '@repo/db'
import {
  MEMBERSHIP_ROLES,
  PROJECT_STATUSES,
  TASK_PRIORITIES,
  TASK_STATUSES,
  WEBHOOK_DELIVERY_STATUSES,
} from '@repo/schemas'
import { describe, expect, it } from 'vitest'

// @repo/schemas cannot import the Prisma client (browsers load it), so it spells the
// database's enums out: a value added to one side only would pass the form and fail in
// Postgres, or the other way round. Order matters too: priorities rank by it.
describe('the shared input schemas and the database', () => {
  it.each([
    ['membership_role', MembershipRole, MEMBERSHIP_ROLES],
    ['project_status', ProjectStatus, PROJECT_STATUSES],
    ['task_status', TaskStatus, TASK_STATUSES],
    ['task_priority', TaskPriority, TASK_PRIORITIES],
    ['webhook_delivery_status', WebhookDeliveryStatus, WEBHOOK_DELIVERY_STATUSES],
  ] as const)('name the same %s values, in declaration order', (_, database, shared) => {
    expect(shared).toEqual(Object.values(database))
  })
})
