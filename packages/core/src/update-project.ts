import { type TenantContext, withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { type ExpectedVersion, versionMismatch } from './preconditions.ts'
import type { ProjectChanges } from './project-fields.ts'
import { emitWebhookEvent, projectEventData } from './webhook-events.ts'

/**
 * Changes a project if it is still at `expectedVersion` (412 otherwise; 404 if it is not
 * there). One conditional UPDATE: a concurrent writer cannot slip in between the check
 * and the write.
 */
export async function updateProject(
  deps: CoreDeps,
  actor: TenantContext,
  input: { projectId: string; expectedVersion: ExpectedVersion; changes: ProjectChanges },
  meta: RequestMeta = {},
) {
  return withTenant(deps.db, actor, async (tx) => {
    const [updated] = await tx.project.updateManyAndReturn({
      where: {
        id: input.projectId,
        ...(input.expectedVersion === undefined ? {} : { version: input.expectedVersion }),
      },
      data: { ...input.changes, version: { increment: 1 } },
    })
    if (updated) {
      await emitWebhookEvent(
        tx,
        actor.organizationId,
        { type: 'project.updated', data: projectEventData(updated) },
        meta,
      )
      return updated
    }
    const current = await tx.project.findUnique({
      where: { id: input.projectId },
      select: { version: true },
    })
    if (!current) throw errors.notFound('The project')
    throw versionMismatch('The project', current.version)
  })
}
