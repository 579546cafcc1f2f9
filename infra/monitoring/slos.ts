/**
 * The service level objectives, and the Prometheus rules they imply (ADR 030): for each
 * SLO, its error ratio recorded over every window the alerts read, and one alert with two
 * rules, the Google SRE workbook's multi-window, multi-burn-rate alerts:
 *
 * - page: the budget burns 14.4x too fast over 1 h and 5 min (2 % of 30 days' budget in an
 *   hour), or 6x over 6 h and 30 min (5 % in six hours);
 * - ticket: 3x over 1 day and 2 h (10 % in a day), or 1x over 3 days and 6 h.
 *
 * The long window says the burn matters, the short one that it is still happening (so an
 * alert stops soon after the problem does). `pnpm monitoring:generate` writes them to
 * rules/slos.yaml; a test fails while that file differs from what this module says.
 */

export interface RuleGroup {
  name: string
  rules: Rule[]
}

export type Rule =
  | { record: string; expr: string; labels?: Record<string, string> }
  | {
      alert: string
      expr: string
      for?: string
      labels: Record<string, string>
      annotations: { summary: string; description: string; runbook_url: string }
    }

export interface Slo {
  /** The `slo` label of its series, kebab-case. */
  name: string
  /** Its alert's name; the runbook entry in docs/observability.md has it as its heading. */
  alert: string
  /** What it promises, for people: the alert's summary starts with it. */
  title: string
  /** The share of good events (or of good minutes) over 30 days. */
  objective: number
  /** Rules evaluated before the error ratios (a time-based SLI's per-minute verdict). */
  prelude?: Rule[]
  /** PromQL of the share of bad events over `window` (a Prometheus duration). */
  errorRatio: (window: string) => string
  /** What a bad event is, for the alert's description. */
  bad: string
}

/**
 * Routes outside the API's SLOs: the probes (readiness answers 503 on purpose while a pod
 * drains; its own alert covers it) and the operators' queue dashboard (bull-board's pages
 * and assets, not the product's API).
 */
export const EXCLUDED_ROUTES = '/healthz|/readyz|/admin/queues.*'
/** The API latency SLO's threshold: a bucket boundary of http_request_duration_seconds. */
export const LATENCY_THRESHOLD_SECONDS = '0.5'
/** The outbox lag SLO's threshold: a minute is two leases' worth of a dead relay. */
export const OUTBOX_LAG_THRESHOLD_SECONDS = 60

const requests = (window: string, extra = '') =>
  `sum(rate(http_request_duration_seconds_${extra ? 'bucket' : 'count'}{route!~"${EXCLUDED_ROUTES}"${extra}}[${window}]))`

export const SLOS: Slo[] = [
  {
    name: 'api-availability',
    alert: 'ApiAvailabilityBudgetBurn',
    title: 'API availability (99.9 % of requests answered without a 5xx)',
    objective: 0.999,
    errorRatio: (w) =>
      `sum(rate(http_request_duration_seconds_count{route!~"${EXCLUDED_ROUTES}",status_code=~"5.."}[${w}]))\n/\n${requests(w)}`,
    bad: 'requests answered with a 5xx',
  },
  {
    name: 'api-latency',
    alert: 'ApiLatencyBudgetBurn',
    title: `API latency (99 % of requests answered within ${LATENCY_THRESHOLD_SECONDS} s)`,
    objective: 0.99,
    errorRatio: (w) =>
      `1 - (\n  ${requests(w, `,le="${LATENCY_THRESHOLD_SECONDS}"`)}\n  /\n  ${requests(w)}\n)`,
    bad: `requests slower than ${LATENCY_THRESHOLD_SECONDS} s`,
  },
  {
    // A job that fails and is retried has not failed anyone yet; one that runs out of
    // attempts (a dead letter) has. Only final outcomes count.
    name: 'job-success',
    alert: 'JobSuccessBudgetBurn',
    title: 'Job success (99.5 % of jobs complete rather than become dead letters)',
    objective: 0.995,
    errorRatio: (w) =>
      `sum(rate(job_duration_seconds_count{outcome="dead_letter"}[${w}]))\n/\nsum(rate(job_duration_seconds_count{outcome=~"completed|dead_letter"}[${w}]))`,
    bad: 'jobs that became dead letters',
  },
  {
    // Time-based: each minute is good or bad by the oldest unrelayed outbox row's age
    // (every worker reports the same table: the highest report is the truth).
    name: 'outbox-lag',
    alert: 'OutboxLagBudgetBurn',
    // 99 %, not 99.9 %: at 99.9 % a single slow minute in an hour would page.
    title: `Outbox lag (99 % of minutes with every outbox row relayed within ${OUTBOX_LAG_THRESHOLD_SECONDS} s)`,
    objective: 0.99,
    prelude: [
      {
        record: 'slo:outbox_lag_over_threshold:bool',
        expr: `max(outbox_lag_seconds) > bool ${OUTBOX_LAG_THRESHOLD_SECONDS}`,
      },
    ],
    errorRatio: (w) => `avg_over_time(slo:outbox_lag_over_threshold:bool[${w}])`,
    bad: `minutes with an outbox row older than ${OUTBOX_LAG_THRESHOLD_SECONDS} s`,
  },
]

/** Every window an alert reads. */
export const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const
type Window = (typeof WINDOWS)[number]

interface BurnCondition {
  long: Window
  short: Window
  factor: number
}

const WINDOW_WORDS: Record<Window, string> = {
  '5m': '5 minutes',
  '30m': '30 minutes',
  '1h': '1 hour',
  '2h': '2 hours',
  '6h': '6 hours',
  '1d': '1 day',
  '3d': '3 days',
}

export const BURN_ALERTS: Array<{
  severity: 'page' | 'ticket'
  when: string
  conditions: BurnCondition[]
}> = [
  {
    severity: 'page',
    when: 'burning its error budget fast',
    conditions: [
      { long: '1h', short: '5m', factor: 14.4 },
      { long: '6h', short: '30m', factor: 6 },
    ],
  },
  {
    severity: 'ticket',
    when: 'burning its error budget steadily',
    conditions: [
      { long: '1d', short: '2h', factor: 3 },
      { long: '3d', short: '6h', factor: 1 },
    ],
  },
]

export const RUNBOOK_DOC = 'docs/observability.md'

/** GitHub's anchor of a markdown heading. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

export const runbookUrl = (alert: string) => `${RUNBOOK_DOC}#${anchorOf(alert)}`

const ratio = (slo: string, window: string) => `slo:sli_error:ratio_rate${window}{slo="${slo}"}`

function burnAlert(slo: Slo, alert: (typeof BURN_ALERTS)[number]): Rule {
  const budget = `(1 - ${slo.objective})`
  const expr = alert.conditions
    .map(
      ({ long, short, factor }) =>
        `(\n  ${ratio(slo.name, long)} > (${factor} * ${budget})\n  and\n  ${ratio(slo.name, short)} > (${factor} * ${budget})\n)`,
    )
    .join('\nor\n')
  const windows = alert.conditions
    .map(
      ({ long, short, factor }) =>
        `${factor}x over ${WINDOW_WORDS[long]} and ${WINDOW_WORDS[short]}`,
    )
    .join(', or ')
  const days = (condition: BurnCondition) => condition.factor * 100 * (hours(condition.long) / 720)
  const spent = alert.conditions.map((c) => `${days(c).toFixed(0)} %`).join(' / ')
  return {
    alert: slo.alert,
    expr,
    labels: { severity: alert.severity, slo: slo.name },
    annotations: {
      summary: `${slo.title}: ${alert.when}`,
      description: `The share of ${slo.bad} is above what the ${slo.objective * 100} % objective allows, ${windows} (${spent} of the 30-day budget spent at that rate).`,
      runbook_url: runbookUrl(slo.alert),
    },
  }
}

function hours(window: Window): number {
  const amount = Number.parseInt(window, 10)
  return window.endsWith('d') ? amount * 24 : window.endsWith('h') ? amount : amount / 60
}

/** The rule groups of every SLO: rules/slos.yaml. */
export function sloRuleGroups(slos: Slo[] = SLOS): RuleGroup[] {
  return slos.map((slo) => ({
    name: `slo-${slo.name}`,
    rules: [
      ...(slo.prelude ?? []),
      // The objective as a series, so dashboards can turn error ratios into burn rates.
      {
        record: 'slo:objective:ratio',
        expr: `vector(${slo.objective})`,
        labels: { slo: slo.name },
      },
      ...WINDOWS.map(
        (window): Rule => ({
          record: `slo:sli_error:ratio_rate${window}`,
          expr: slo.errorRatio(window),
          labels: { slo: slo.name },
        }),
      ),
      ...BURN_ALERTS.map((alert) => burnAlert(slo, alert)),
    ],
  }))
}
