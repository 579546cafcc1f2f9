import type { Metadata } from 'next'
import { Card, CardContent, CardDescription, CardHeader } from '@/components/ui/card.tsx'
import { idOrNotFound } from '@/lib/server/params.ts'
import { CreateProjectForm } from '../project-form.tsx'

export const metadata: Metadata = { title: 'Create project' }

export default async function NewProjectPage({ params }: { params: Promise<{ orgId: string }> }) {
  const orgId = idOrNotFound((await params).orgId)
  return (
    <Card className="mx-auto w-full max-w-xl">
      <CardHeader>
        <h1 className="text-2xl font-semibold">Create project</h1>
        <CardDescription>A project groups the tasks of one piece of work.</CardDescription>
      </CardHeader>
      <CardContent>
        <CreateProjectForm orgId={orgId} />
      </CardContent>
    </Card>
  )
}
