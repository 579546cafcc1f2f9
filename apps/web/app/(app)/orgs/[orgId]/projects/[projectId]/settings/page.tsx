import type { Metadata } from 'next'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { getProject, organization } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'
import { EditProjectForm } from '../../project-form.tsx'
import { DeleteProject } from './delete-project.tsx'

export const metadata: Metadata = { title: 'Edit project' }

export default async function ProjectSettingsPage({
  params,
}: {
  params: Promise<{ orgId: string; projectId: string }>
}) {
  const raw = await params
  const orgId = idOrNotFound(raw.orgId)
  const projectId = idOrNotFound(raw.projectId)
  const [org, project] = await Promise.all([organization(orgId), getProject(orgId, projectId)])
  return (
    <div className="mx-auto grid w-full max-w-xl gap-6">
      <Card>
        <CardHeader>
          <h1 className="text-2xl font-semibold">Edit project</h1>
        </CardHeader>
        <CardContent>
          <EditProjectForm orgId={orgId} project={project} />
        </CardContent>
      </Card>
      {/* Members may edit a project but not delete it: no button that can only fail. */}
      {org.role === 'member' ? null : (
        <Card>
          <CardHeader>
            <h2 className="text-lg font-semibold">Delete project</h2>
            <CardDescription>
              Deletes the project and all of its tasks. Admins and owners only.
            </CardDescription>
          </CardHeader>
          <CardContent>
            <DeleteProject orgId={orgId} projectId={projectId} name={project.name} />
          </CardContent>
        </Card>
      )}
    </div>
  )
}
