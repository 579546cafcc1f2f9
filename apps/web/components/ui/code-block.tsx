import { Card, CardContent, CardHeader } from './card.tsx'

/** A titled block of JSON (a job's or a delivery's payload), scrolling sideways on its own. */
export function JsonCard({ title, value }: { title: string; value: unknown }) {
  return (
    <Card>
      <CardHeader>
        <h2 className="text-lg font-semibold">{title}</h2>
      </CardHeader>
      <CardContent>
        <pre className="overflow-x-auto rounded bg-muted p-3 text-xs">
          {JSON.stringify(value, null, 2)}
        </pre>
      </CardContent>
    </Card>
  )
}
