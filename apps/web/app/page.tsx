import Link from 'next/link'
import { buttonVariants } from '@/components/ui/button.tsx'

const guarantees = [
  [
    'Tenant isolation',
    'Every query is scoped to an organization, with row-level security behind it.',
  ],
  ['Real auth', 'Hashed sessions, MFA, OAuth and roles checked on every route.'],
  ['Reliable jobs', 'Queues with retries, dead letters, cron and a transactional outbox.'],
  ['Observability', 'Structured logs, Sentry, PostHog and metrics from the first commit.'],
] as const

export default function Home() {
  return (
    <main className="mx-auto max-w-5xl px-6 py-24">
      <section className="max-w-3xl">
        <p className="font-semibold tracking-widest text-primary uppercase">Groundwork</p>
        <h1 className="mt-2 text-4xl leading-tight font-semibold sm:text-5xl">
          Ship the product, not the plumbing.
        </h1>
        <p className="mt-4 text-lg text-muted-foreground">
          A production-grade starter for multi-tenant SaaS: a Next.js web app and a Fastify API on
          one Prisma schema, with BullMQ workers and every guarantee proven by tests.
        </p>
        <div className="mt-8 flex flex-wrap gap-3">
          <Link href="/sign-up" className={buttonVariants({ size: 'lg' })}>
            Sign up
          </Link>
          <Link href="/sign-in" className={buttonVariants({ size: 'lg', variant: 'outline' })}>
            Sign in
          </Link>
        </div>
      </section>
      <ul className="mt-16 grid gap-4 sm:grid-cols-2">
        {guarantees.map(([title, body]) => (
          <li key={title} className="rounded-xl border bg-card p-6">
            <h2 className="font-semibold">{title}</h2>
            <p className="mt-1 text-muted-foreground">{body}</p>
          </li>
        ))}
      </ul>
    </main>
  )
}
