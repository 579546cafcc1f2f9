import {
  databaseErrorState,
  Prisma,
  type Project,
  SQLSTATE,
  type TenantContext,
  writeWithTenant,
} from '@repo/db'
import type { CoreDeps, RequestMeta } from './context.ts'
import { newId } from './ids.ts'
import { quotaExceeded } from './preconditions.ts'
import type { ProjectChanges } from './project-fields.ts'
import { projectEventData, webhookEventStatement } from './webhook-events.ts'

/**
 * A new project of the acting organization, every value made here: its id (a UUIDv7, as
 * Prisma's `@default(uuid(7))` would make it), its times and its version. Nothing is
 * written; a route that answers before it writes (ADR 046) builds its answer from it,
 * then writes it with `insertProject`.
 */
export function newProject(
  actor: TenantContext,
  input: ProjectChanges & { name: string },
): Project {
  const now = new Date()
  return {
    id: newId(),
    organizationId: actor.organizationId,
    name: input.name,
    description: input.description ?? '',
    status: input.status ?? 'active',
    version: 1,
    createdAt: now,
    updatedAt: now,
  }
}

/**
 * Creates a project; its name is unique in the organization (a duplicate answers 409),
 * and the organization's project quota holds (403 past it).
 */
export function createProject(
  deps: CoreDeps,
  actor: TenantContext,
  input: ProjectChanges & { name: string },
  meta: RequestMeta = {},
): Promise<Project> {
  return insertProject(deps, actor, newProject(actor, input), meta)
}

/**
 * Writes a project `newProject` made, as `createProject` describes.
 *
 * A hot write, sent in one round trip (writeWithTenant, ADR 045): every value of the row
 * is made before it (`newProject`), so nothing is read before the commit, and the
 * statements go out together with the tenant settings and the Idempotency-Key's claim or
 * mark. They commit together or not at all.
 */
export async function insertProject(
  deps: CoreDeps,
  actor: TenantContext,
  project: Project,
  meta: RequestMeta = {},
): Promise<Project> {
  if (project.organizationId !== actor.organizationId)
    throw new Error('createProject: the project belongs to another organization than its actor')
  const limit = deps.quotas.projectsPerOrganization
  try {
    await writeWithTenant(deps.db, actor, [
      // A name already taken fails here (23505, a 409) before the quota is looked at.
      Prisma.sql`
        INSERT INTO projects (id, organization_id, name, description, status, version, created_at, updated_at)
        VALUES (${project.id}::uuid, ${project.organizationId}::uuid, ${project.name},
          ${project.description}, ${project.status}::project_status, ${project.version},
          ${project.createdAt.toISOString()}::timestamptz,
          ${project.updatedAt.toISOString()}::timestamptz)`,
      webhookEventStatement(
        actor.organizationId,
        { type: 'project.created', data: projectEventData(project) },
        meta,
      ),
      // Last, the quota (ADR 041, ADR 044): the insert's statement already counted the
      // project in its organization's row, locking the row until the Sync's commit (no
      // round trip in between); this reads the count under that lock and raises past it.
      Prisma.sql`SELECT app_take_project_quota(${actor.organizationId}::uuid, ${limit}::integer)`,
    ])
  } catch (error) {
    if (databaseErrorState(error) === SQLSTATE.projectQuotaReached)
      throw quotaExceeded('projects', limit)
    throw error
  }
  return project
}
