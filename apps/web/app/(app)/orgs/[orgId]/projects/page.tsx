import { listProjectsQuery } from '@repo/schemas'
import type { Metadata } from 'next'
import Link from 'next/link'
import { EmptyState } from '@/components/lists/empty-state.tsx'
import { ListFilters } from '@/components/lists/list-filters.tsx'
import { Pagination } from '@/components/lists/pagination.tsx'
import { Badge } from '@/components/ui/badge.tsx'
import { buttonVariants } from '@/components/ui/button.tsx'
import { Card } from '@/components/ui/card.tsx'
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from '@/components/ui/table.tsx'
import { listStateFrom } from '@/lib/list-query.ts'
import { load } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'

export const metadata: Metadata = { title: 'Projects' }

type Props = {
  params: Promise<{ orgId: string }>
  searchParams: Promise<Record<string, string | string[] | undefined>>
}

const dateFormat = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' })

export default async function ProjectsPage({ params, searchParams }: Props) {
  const orgId = idOrNotFound((await params).orgId)
  const state = listStateFrom(listProjectsQuery, await searchParams)
  const page = await load((api) =>
    api.GET('/v1/orgs/{orgId}/projects', { params: { path: { orgId }, query: state } }),
  )
  const path = `/orgs/${orgId}/projects`
  const filtered = Boolean(state.search || state.status)
  return (
    <div className="grid gap-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">Projects</h1>
        <Link href={`${path}/new`} className={buttonVariants()}>
          Create project
        </Link>
      </div>
      <ListFilters
        path={path}
        state={state}
        search={{ name: 'search', label: 'Search projects' }}
        selects={[
          {
            name: 'status',
            label: 'Status',
            options: [
              { value: '', label: 'Any status' },
              { value: 'active', label: 'Active' },
              { value: 'archived', label: 'Archived' },
            ],
          },
          {
            name: 'sort',
            label: 'Sort by',
            options: [
              { value: '-createdAt', label: 'Newest first' },
              { value: 'createdAt', label: 'Oldest first' },
              { value: 'name', label: 'Name A–Z' },
              { value: '-name', label: 'Name Z–A' },
            ],
          },
        ]}
      />
      {page.data.length === 0 ? (
        <EmptyState
          title={filtered ? 'No projects match.' : 'No projects yet.'}
          hint={
            filtered
              ? 'Try another search or filter.'
              : 'Create the first one to start tracking work.'
          }
        />
      ) : (
        <Card>
          <Table>
            <caption className="sr-only">Projects</caption>
            <TableHeader>
              <TableRow>
                <TableHead scope="col">Name</TableHead>
                <TableHead scope="col">Status</TableHead>
                <TableHead scope="col" className="hidden sm:table-cell">
                  Created
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {page.data.map((project) => (
                <TableRow key={project.id}>
                  <TableCell>
                    <Link href={`${path}/${project.id}`} className="font-medium hover:underline">
                      {project.name}
                    </Link>
                  </TableCell>
                  <TableCell>
                    <Badge variant={project.status === 'active' ? 'secondary' : 'outline'}>
                      {project.status === 'active' ? 'Active' : 'Archived'}
                    </Badge>
                  </TableCell>
                  <TableCell className="hidden text-muted-foreground sm:table-cell">
                    {dateFormat.format(new Date(project.createdAt))}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
      <Pagination path={path} state={state} nextCursor={page.nextCursor} />
    </div>
  )
}
