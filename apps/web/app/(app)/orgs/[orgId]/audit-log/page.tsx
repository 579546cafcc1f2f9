import { listAuditLogQuery } from '@repo/schemas'
import type { Metadata } from 'next'
import { EmptyState } from '@/components/lists/empty-state.tsx'
import { Pagination } from '@/components/lists/pagination.tsx'
import { PageNotice } from '@/components/shell/page-notice.tsx'
import { Alert } from '@/components/ui/alert.tsx'
import { Button } from '@/components/ui/button.tsx'
import { Card } from '@/components/ui/card.tsx'
import { Input, Label, NativeSelect } from '@/components/ui/input.tsx'
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from '@/components/ui/table.tsx'
import { listStateFrom, one } from '@/lib/list-query.ts'
import { callApi, getMembers, organization } from '@/lib/server/api.ts'
import { idOrNotFound } from '@/lib/server/params.ts'

export const metadata: Metadata = { title: 'Audit log' }

type Props = {
  params: Promise<{ orgId: string }>
  searchParams: Promise<Record<string, string | string[] | undefined>>
}

const AREAS = [
  { value: '', label: 'Everything' },
  { value: 'member.', label: 'Members' },
  { value: 'invitation.', label: 'Invitations' },
  { value: 'organization.', label: 'Organization' },
  { value: 'project.', label: 'Projects' },
  { value: 'api_key.', label: 'API keys' },
  { value: 'webhook_endpoint.', label: 'Webhook endpoints' },
  { value: 'webhook_delivery.', label: 'Webhook deliveries' },
]

/** A calendar day from the form, as the instant it starts (UTC); anything else is ignored. */
function dayStart(value: string | undefined): number | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined
  const instant = Date.parse(`${value}T00:00:00Z`)
  // 2024-02-31 parses as a day in March: only a date that reads back the same is one.
  if (!Number.isFinite(instant) || new Date(instant).toISOString().slice(0, 10) !== value)
    return undefined
  return instant
}
const when = new Intl.DateTimeFormat('en', {
  dateStyle: 'medium',
  timeStyle: 'medium',
  timeZone: 'UTC',
})

export default async function AuditLogPage({ params, searchParams }: Props) {
  const orgId = idOrNotFound((await params).orgId)
  const search = await searchParams
  // Days in the form, instants for the API: from the start of `from` to the end of `to`, UTC.
  const from = one(search, 'from')
  const to = one(search, 'to')
  const since = dayStart(from)
  const until = dayStart(to)
  const state = {
    ...listStateFrom(listAuditLogQuery, search),
    ...(since !== undefined ? { since: new Date(since).toISOString() } : {}),
    ...(until !== undefined ? { until: new Date(until + 86_400_000).toISOString() } : {}),
  }
  const [org, members] = await Promise.all([organization(orgId), getMembers(orgId)])
  if (org.role === 'member')
    return <PageNotice title="Audit log">Only owners and admins can read the audit log.</PageNotice>
  const page = await callApi((api) =>
    api.GET('/v1/orgs/{orgId}/audit-log', { params: { path: { orgId }, query: state } }),
  )
  const path = `/orgs/${orgId}/audit-log`
  const urlState = { ...listStateFrom(listAuditLogQuery, search), from, to }
  return (
    <div className="grid gap-4">
      <h1 className="text-2xl font-semibold">Audit log</h1>
      <search>
        <form method="get" action={path} className="flex flex-wrap items-end gap-3">
          <div className="grid gap-2">
            <Label htmlFor="audit-action">Area</Label>
            <NativeSelect id="audit-action" name="action" defaultValue={state.action ?? ''}>
              {AREAS.map((area) => (
                <option key={area.value} value={area.value}>
                  {area.label}
                </option>
              ))}
            </NativeSelect>
          </div>
          <div className="grid gap-2">
            <Label htmlFor="audit-actor">Who</Label>
            <NativeSelect
              id="audit-actor"
              name="actorUserId"
              defaultValue={state.actorUserId ?? ''}
            >
              <option value="">Anyone</option>
              {members.data.map((member) => (
                <option key={member.userId} value={member.userId}>
                  {member.name}
                </option>
              ))}
            </NativeSelect>
          </div>
          <div className="grid gap-2">
            <Label htmlFor="audit-from">From</Label>
            <Input id="audit-from" name="from" type="date" defaultValue={from ?? ''} />
          </div>
          <div className="grid gap-2">
            <Label htmlFor="audit-to">To</Label>
            <Input id="audit-to" name="to" type="date" defaultValue={to ?? ''} />
          </div>
          <Button type="submit" variant="secondary">
            Apply
          </Button>
        </form>
      </search>
      {!page.ok ? (
        <Alert role="alert" variant="destructive">
          {page.problem.message}
        </Alert>
      ) : page.data.data.length === 0 ? (
        <EmptyState
          title={
            <>
              Nothing recorded{' '}
              {state.action || state.actorUserId || from || to ? 'that matches' : 'yet'}.
            </>
          }
        />
      ) : (
        <Card>
          <Table>
            <caption className="sr-only">Audit log entries, newest first. Times are UTC.</caption>
            <TableHeader>
              <TableRow>
                <TableHead scope="col">When (UTC)</TableHead>
                <TableHead scope="col">Who</TableHead>
                <TableHead scope="col">What</TableHead>
                <TableHead scope="col" className="hidden md:table-cell">
                  From
                </TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {page.data.data.map((entry) => (
                <TableRow key={entry.id}>
                  <TableCell className="whitespace-nowrap text-muted-foreground">
                    {when.format(new Date(entry.createdAt))}
                  </TableCell>
                  <TableCell>
                    {entry.actor ? (entry.actor.name ?? 'A former member') : 'System'}
                  </TableCell>
                  <TableCell className="font-mono text-xs">
                    {entry.action}
                    {entry.targetType ? ` · ${entry.targetType}` : ''}
                  </TableCell>
                  <TableCell className="hidden text-muted-foreground md:table-cell">
                    {entry.ipAddress ?? '—'}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
      {page.ok ? (
        <Pagination path={path} state={urlState} nextCursor={page.data.nextCursor} />
      ) : null}
    </div>
  )
}
