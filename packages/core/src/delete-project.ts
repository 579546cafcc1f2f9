import { type TenantContext, withTenant } from '@repo/db'
import { errors } from './app-error.ts'
import { recordAudit } from './audit.ts'
import type { CoreDeps, RequestMeta } from './context.ts'
import { type ExpectedVersion, versionMismatch } from './preconditions.ts'
import { emitWebhookEvent } from './webhook-events.ts'

/**
 * Deletes a project and, through the foreign key, all its tasks: one transaction, so
 * either everything goes or nothing does. The audit log keeps a record.
 */
export async function deleteProject(
  deps: CoreDeps,
  actor: TenantContext,
  input: { projectId: string; expectedVersion: ExpectedVersion },
  meta: RequestMeta = {},
) {
  await withTenant(deps.db, actor, async (tx) => {
    const project = await tx.project.findUnique({
      where: { id: input.projectId },
      select: { version: true, name: true },
    })
    if (!project) throw errors.notFound('The project')
    const { count } = await tx.project.deleteMany({
      where: {
        id: input.projectId,
        ...(input.expectedVersion === undefined ? {} : { version: input.expectedVersion }),
      },
    })
    if (count === 0) throw versionMismatch('The project', project.version)
    await recordAudit(tx, {
      action: 'project.deleted',
      organizationId: actor.organizationId,
      actorUserId: actor.userId,
      targetType: 'project',
      targetId: input.projectId,
      ipAddress: meta.ipAddress,
      metadata: { name: project.name },
    })
    // Its tasks go with it: project.deleted stands for them too (no task.deleted each).
    await emitWebhookEvent(
      tx,
      actor.organizationId,
      {
        type: 'project.deleted',
        data: { id: input.projectId, organizationId: actor.organizationId },
      },
      meta,
    )
  })
}
