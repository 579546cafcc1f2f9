import type { Metadata } from 'next'
import Link from 'next/link'
import { Card, CardContent, CardHeader } from '@/components/ui/card.tsx'
import { getMembers, getProject, load } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'
import { TaskForm } from './task-form.tsx'

export const metadata: Metadata = { title: 'Task' }

export default async function TaskPage({
  params,
}: {
  params: Promise<{ orgId: string; projectId: string; taskId: string }>
}) {
  const raw = await params
  const orgId = idOrNotFound(raw.orgId)
  const projectId = idOrNotFound(raw.projectId)
  const taskId = idOrNotFound(raw.taskId)
  const [task, project, members] = await Promise.all([
    load((api) =>
      api.GET('/v1/orgs/{orgId}/projects/{projectId}/tasks/{taskId}', {
        params: { path: { orgId, projectId, taskId } },
      }),
    ),
    getProject(orgId, projectId),
    getMembers(orgId),
  ])
  const people = members.data.map((member) => ({ id: member.userId, name: member.name }))
  return (
    <Card className="mx-auto w-full max-w-2xl">
      <CardHeader>
        <p className="text-sm text-muted-foreground">
          <Link href={`/orgs/${orgId}/projects/${projectId}`} className="hover:underline">
            {project.name}
          </Link>
        </p>
        <h1 className="text-2xl font-semibold break-words">{task.title}</h1>
      </CardHeader>
      <CardContent>
        <TaskForm orgId={orgId} projectId={projectId} task={task} people={people} />
      </CardContent>
    </Card>
  )
}
