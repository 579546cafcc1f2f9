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
    <main className="page">
      <section className="hero">
        <p className="eyebrow">Groundwork</p>
        <h1>Ship the product, not the plumbing.</h1>
        <p className="lead">
          A production-grade starter for multi-tenant SaaS: a Next.js web app and a Fastify API on
          one Prisma schema, with BullMQ workers and every guarantee proven by tests.
        </p>
      </section>
      <ul className="grid">
        {guarantees.map(([title, body]) => (
          <li key={title} className="card">
            <h2>{title}</h2>
            <p>{body}</p>
          </li>
        ))}
      </ul>
    </main>
  )
}
