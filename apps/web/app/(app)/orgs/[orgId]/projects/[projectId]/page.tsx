import { listTasksQuery } from '@repo/schemas'
import type { Metadata } from 'next'
import Link from 'next/link'
import { EmptyState } from '@/components/lists/empty-state.tsx'
import { ListFilters } from '@/components/lists/list-filters.tsx'
import { Pagination } from '@/components/lists/pagination.tsx'
import { Badge } from '@/components/ui/badge.tsx'
import { listStateFrom } from '@/lib/list-query.ts'
import { getMembers, getProject, load } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'
import { priorityOptions, statusOptions } from '@/lib/task-labels.ts'
import { NewTaskForm } from './new-task-form.tsx'
import { TaskList } from './task-list.tsx'

type Props = {
  params: Promise<{ orgId: string; projectId: string }>
  searchParams: Promise<Record<string, string | string[] | undefined>>
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { orgId, projectId } = await params
  const project = await getProject(idOrNotFound(orgId), idOrNotFound(projectId))
  return { title: project.name }
}

export default async function ProjectPage({ params, searchParams }: Props) {
  const raw = await params
  const orgId = idOrNotFound(raw.orgId)
  const projectId = idOrNotFound(raw.projectId)
  const state = listStateFrom(listTasksQuery, await searchParams)
  const path = { path: { orgId, projectId } }
  const [project, tasks, members] = await Promise.all([
    getProject(orgId, projectId),
    load((api) =>
      api.GET('/v1/orgs/{orgId}/projects/{projectId}/tasks', { params: { ...path, query: state } }),
    ),
    getMembers(orgId),
  ])
  const href = `/orgs/${orgId}/projects/${projectId}`
  const people = members.data.map((member) => ({ id: member.userId, name: member.name }))
  const filtered = Boolean(state.status || state.priority || state.assigneeId)
  return (
    <div className="grid gap-6">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="grid gap-1">
          <p className="text-sm text-muted-foreground">
            <Link href={`/orgs/${orgId}/projects`} className="hover:underline">
              Projects
            </Link>
          </p>
          <h1 className="flex items-center gap-2 text-2xl font-semibold">
            {project.name}
            {project.status === 'archived' ? <Badge variant="outline">Archived</Badge> : null}
          </h1>
          {project.description ? (
            <p className="max-w-prose text-muted-foreground whitespace-pre-line">
              {project.description}
            </p>
          ) : null}
        </div>
        <Link href={`${href}/settings`} className="text-sm underline underline-offset-4">
          Edit project
        </Link>
      </div>
      <NewTaskForm orgId={orgId} projectId={projectId} people={people} />
      <ListFilters
        path={href}
        state={state}
        selects={[
          {
            name: 'status',
            label: 'Status',
            options: [{ value: '', label: 'Any status' }, ...statusOptions],
          },
          {
            name: 'priority',
            label: 'Priority',
            options: [{ value: '', label: 'Any priority' }, ...priorityOptions],
          },
          {
            name: 'assigneeId',
            label: 'Assignee',
            options: [
              { value: '', label: 'Anyone' },
              { value: 'none', label: 'Unassigned' },
              ...people.map((person) => ({ value: person.id, label: person.name })),
            ],
          },
          {
            name: 'sort',
            label: 'Sort by',
            options: [
              { value: '-createdAt', label: 'Newest first' },
              { value: 'createdAt', label: 'Oldest first' },
              { value: '-priority', label: 'Priority, highest first' },
              { value: 'dueDate', label: 'Due date, soonest first' },
              { value: 'title', label: 'Title A–Z' },
            ],
          },
        ]}
      />
      {tasks.data.length === 0 ? (
        <EmptyState
          title={filtered ? 'No tasks match.' : 'No tasks yet.'}
          hint={filtered ? 'Try another filter.' : 'Add the first task above.'}
        />
      ) : (
        <TaskList orgId={orgId} projectId={projectId} tasks={tasks.data} people={people} />
      )}
      <Pagination path={href} state={state} nextCursor={tasks.nextCursor} />
    </div>
  )
}
