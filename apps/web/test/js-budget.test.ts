import { describe, expect, it } from 'vitest'
import { firstLoadJs, kB, markdownTable, type RouteJs } from '../scripts/first-load-js.ts'

// Every page's first-load JavaScript (gzip, what a first visit downloads before the page
// responds) against a budget, on the production build (`pnpm build` first). Measured
// 2026-12-01, once Sentry's and PostHog's browser SDKs load only when configured: 150.4 kB
// for the landing page (all of it shared by every page) to 261.6 kB for the largest
// organization page (docs/benchmarks.md). The budget leaves about 15% above the largest:
// room for a feature, not for a library nobody weighed. A route that needs more gets an
// entry below with the reason; raising BUDGET_KB is a decision too.
const BUDGET_KB = 300

/** Pages allowed more (or held to less) than BUDGET_KB, each with why. */
const ROUTE_BUDGETS_KB: Record<string, number> = {}

const budgetOf = (route: string) => ROUTE_BUDGETS_KB[route] ?? BUDGET_KB

function overBudget(routes: RouteJs[]): string {
  const rows = routes.map((r) => [
    r.route,
    kB(r.gzipBytes),
    String(budgetOf(r.route)),
    kB(r.gzipBytes - budgetOf(r.route) * 1000),
    kB(r.gzipBytes - r.sharedGzipBytes),
  ])
  return [
    'First-load JavaScript over budget (gzip):',
    markdownTable(['route', 'gzip kB', 'budget kB', 'over by kB', 'own (not shared) kB'], rows, [
      false,
      true,
      true,
      true,
      true,
    ]),
    'See which files grew: `pnpm bench:web` prints every page; `next build --analyze` in',
    'apps/web shows what is in them. Import large, rarely used code with next/dynamic.',
  ].join('\n')
}

describe('first-load JavaScript budget', () => {
  it(`keeps every page at or under ${BUDGET_KB} kB gzip unless it has a budget of its own`, () => {
    const routes = firstLoadJs()
    expect(routes.length).toBeGreaterThan(0)
    const over = routes.filter((r) => r.gzipBytes > budgetOf(r.route) * 1000)
    expect(
      over.map((r) => r.route),
      overBudget(over),
    ).toEqual([])
  })

  it('has per-page budgets only for pages that exist', () => {
    const routes = new Set(firstLoadJs().map((r) => r.route))
    expect(Object.keys(ROUTE_BUDGETS_KB).filter((route) => !routes.has(route))).toEqual([])
  })
})
