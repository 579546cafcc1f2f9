// Liveness for the web server itself (no dependencies), for orchestrators and `pnpm dev`.
export const dynamic = 'force-dynamic'

export function GET() {
  return Response.json({ status: 'ok' })
}
