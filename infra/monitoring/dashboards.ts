/**
 * The Grafana dashboards (dashboards/*.json), written as data so every panel has the same
 * shape: the `${datasource}` variable (one Prometheus per environment: the variable picks
 * the environment), a unit, a description for whoever is on call. `pnpm
 * monitoring:generate` writes the JSON; a test fails while the files differ from this.
 */
import { LATENCY_THRESHOLD_SECONDS, SLOS } from './slos.ts'

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, meant literally
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }
const RATE = '$__rate_interval'

interface PanelSpec {
  title: string
  description: string
  unit: string
  /** PromQL and its legend; one series per line of the legend's labels. */
  queries: Array<[expr: string, legend: string]>
  type?: 'timeseries' | 'stat'
  width?: number
  stack?: boolean
  /** Fixed bounds of the y axis (ratios, burn rates). */
  min?: number
  max?: number
}

interface RowSpec {
  title: string
  panels: PanelSpec[]
}

interface DashboardSpec {
  uid: string
  title: string
  description: string
  rows: RowSpec[]
}

const PANEL_HEIGHT = 8

function panel(spec: PanelSpec, id: number, x: number, y: number) {
  const type = spec.type ?? 'timeseries'
  return {
    id,
    type,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos: { h: PANEL_HEIGHT, w: spec.width ?? 12, x, y },
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        ...(spec.min === undefined ? {} : { min: spec.min }),
        ...(spec.max === undefined ? {} : { max: spec.max }),
        ...(type === 'timeseries'
          ? {
              custom: {
                drawStyle: 'line',
                lineWidth: 1,
                fillOpacity: spec.stack ? 30 : 10,
                showPoints: 'never',
                stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
              },
            }
          : {}),
      },
      overrides: [],
    },
    options:
      type === 'timeseries'
        ? {
            legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] },
            tooltip: { mode: 'multi', sort: 'desc' },
          }
        : {
            reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
            colorMode: 'value',
          },
    targets: spec.queries.map(([expr, legendFormat], index) => ({
      refId: String.fromCharCode(65 + index),
      datasource: DATASOURCE,
      expr,
      legendFormat,
    })),
  }
}

export function dashboard(spec: DashboardSpec) {
  const panels: unknown[] = []
  let id = 1
  let y = 0
  for (const row of spec.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    })
    y += 1
    let x = 0
    for (const item of row.panels) {
      const width = item.width ?? 12
      if (x + width > 24) {
        x = 0
        y += PANEL_HEIGHT
      }
      panels.push(panel(item, id++, x, y))
      x += width
    }
    y += PANEL_HEIGHT
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['groundwork'],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    refresh: '1m',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
          options: [],
        },
      ],
    },
    annotations: { list: [] },
    links: [],
    panels,
  }
}

/** What api and worker both expose, for one service. */
function runtimeRow(service: 'api' | 'worker'): RowSpec {
  const s = `service="${service}"`
  return {
    title: 'Postgres, Redis and the process',
    panels: [
      {
        title: 'Postgres pool connections',
        description:
          'Connections of each pg pool by state, against its maximum. Total at the maximum with clients waiting means the pool is the bottleneck.',
        unit: 'short',
        queries: [
          [`sum by (pool, state) (db_pool_connections{${s}})`, '{{pool}} {{state}}'],
          [`sum by (pool) (db_pool_max_connections{${s}})`, '{{pool}} max'],
        ],
      },
      {
        title: 'Clients waiting for a Postgres connection',
        description:
          'Queries queued for a pool connection. Sustained waits raise the DatabasePoolWaiting alert.',
        unit: 'short',
        queries: [[`sum by (pool) (db_pool_connections{${s},state="waiting"})`, '{{pool}}']],
      },
      {
        title: 'Redis command latency (p99)',
        description: 'Round trips of Redis commands as the client measures them, by command.',
        unit: 's',
        queries: [
          [
            `histogram_quantile(0.99, sum by (command, le) (rate(redis_command_duration_seconds_bucket{${s}}[${RATE}])))`,
            '{{command}}',
          ],
        ],
      },
      {
        title: 'Redis commands per second',
        description: 'Commands sent to Redis, by command.',
        unit: 'ops',
        stack: true,
        queries: [
          [
            `sum by (command) (rate(redis_command_duration_seconds_count{${s}}[${RATE}]))`,
            '{{command}}',
          ],
        ],
      },
      {
        title: 'Readiness by dependency',
        description:
          '1 when the dependency answered the last readiness check (lowest across instances).',
        unit: 'short',
        min: 0,
        max: 1,
        queries: [[`min by (dependency) (readiness_status{${s}})`, '{{dependency}}']],
      },
      {
        title: 'Event-loop lag (p99)',
        description: 'How late timers and I/O callbacks run: CPU-bound work blocks everything.',
        unit: 's',
        queries: [[`max by (instance) (nodejs_eventloop_lag_p99_seconds{${s}})`, '{{instance}}']],
      },
      {
        title: 'Resident memory',
        description: 'Memory of each process, against the container limit it runs under.',
        unit: 'bytes',
        queries: [[`max by (instance) (process_resident_memory_bytes{${s}})`, '{{instance}}']],
      },
      {
        title: 'Running versions',
        description: 'Instances per release: two during a rollout, one otherwise.',
        unit: 'short',
        queries: [[`count by (version, commit) (app_build_info{${s}})`, '{{version}} {{commit}}']],
      },
    ],
  }
}

export const API_DASHBOARD = dashboard({
  uid: 'groundwork-api',
  title: 'Groundwork / API',
  description:
    'The Fastify API: requests, errors and latency by route, its dependencies and abuse signals.',
  rows: [
    {
      title: 'Requests (rate, errors, duration)',
      panels: [
        {
          title: 'Requests per second by route',
          description: 'Requests served, by route pattern (never the raw URL).',
          unit: 'reqps',
          stack: true,
          queries: [
            [`sum by (route) (rate(http_request_duration_seconds_count[${RATE}]))`, '{{route}}'],
          ],
        },
        {
          title: 'Responses per second by status',
          description: 'Responses by status code: 4xx are the clients, 5xx are ours.',
          unit: 'reqps',
          stack: true,
          queries: [
            [
              `sum by (status_code) (rate(http_request_duration_seconds_count[${RATE}]))`,
              '{{status_code}}',
            ],
          ],
        },
        {
          title: '5xx share by route',
          description: 'The share of each route’s requests answered with a 5xx.',
          unit: 'percentunit',
          min: 0,
          queries: [
            [
              `sum by (route) (rate(http_request_duration_seconds_count{status_code=~"5.."}[${RATE}]))\n/\nsum by (route) (rate(http_request_duration_seconds_count[${RATE}]))`,
              '{{route}}',
            ],
          ],
        },
        {
          title: 'Latency percentiles',
          description: `p50, p90 and p99 of every request, from the histogram; the latency SLO's threshold is ${LATENCY_THRESHOLD_SECONDS} s.`,
          unit: 's',
          queries: ['0.5', '0.9', '0.99'].map((q) => [
            `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket[${RATE}])))`,
            `p${Number(q) * 100}`,
          ]),
        },
        {
          title: 'p99 latency by route',
          description: 'The slowest routes first in the legend.',
          unit: 's',
          width: 24,
          queries: [
            [
              `histogram_quantile(0.99, sum by (route, le) (rate(http_request_duration_seconds_bucket[${RATE}])))`,
              '{{route}}',
            ],
          ],
        },
      ],
    },
    {
      title: 'Abuse and authentication',
      panels: [
        {
          title: 'Rate-limit rejections',
          description: 'Requests refused with 429, by the limit that refused them.',
          unit: 'reqps',
          stack: true,
          queries: [[`sum by (limit) (rate(rate_limit_rejections_total[${RATE}]))`, '{{limit}}']],
        },
        {
          title: 'Sign-in failures',
          description:
            'Failed sign-ins by reason: a jump in bad credentials is credential stuffing.',
          unit: 'ops',
          stack: true,
          queries: [[`sum by (reason) (rate(auth_sign_in_failures_total[${RATE}]))`, '{{reason}}']],
        },
      ],
    },
    runtimeRow('api'),
  ],
})

export const WORKER_DASHBOARD = dashboard({
  uid: 'groundwork-worker',
  title: 'Groundwork / Worker',
  description:
    'The BullMQ worker: queues, job outcomes and durations, the outbox relay and webhook deliveries.',
  rows: [
    {
      title: 'Queues',
      panels: [
        {
          title: 'Jobs waiting by queue',
          description:
            'Jobs ready to run that no worker has taken yet: the backlog KEDA scales on.',
          unit: 'short',
          stack: true,
          queries: [
            ['max by (queue) (queue_jobs{state="waiting",queue!="dead-letter"})', '{{queue}}'],
          ],
        },
        {
          title: 'Jobs by queue and state',
          description: 'Waiting, active, delayed (backing off or scheduled) and failed jobs.',
          unit: 'short',
          queries: [
            [
              'max by (queue, state) (queue_jobs{queue!="dead-letter",state!="completed"})',
              '{{queue}} {{state}}',
            ],
          ],
        },
        {
          title: 'Dead letters',
          description:
            'Jobs out of attempts, kept for inspection and replay (pnpm jobs dlq list). Growth raises DeadLettersGrowing.',
          unit: 'short',
          queries: [['max(queue_jobs{queue="dead-letter"})', 'dead letters']],
        },
      ],
    },
    {
      title: 'Jobs',
      panels: [
        {
          title: 'Job outcomes per second',
          description:
            'completed, failed (will retry) and dead_letter (out of attempts), by job name.',
          unit: 'ops',
          stack: true,
          queries: [
            [
              `sum by (job_name, outcome) (rate(job_duration_seconds_count[${RATE}]))`,
              '{{job_name}} {{outcome}}',
            ],
          ],
        },
        {
          title: 'Job duration (p50, p99) by job name',
          description: 'How long a job runs, from start to its outcome.',
          unit: 's',
          queries: [
            [
              `histogram_quantile(0.5, sum by (job_name, le) (rate(job_duration_seconds_bucket[${RATE}])))`,
              '{{job_name}} p50',
            ],
            [
              `histogram_quantile(0.99, sum by (job_name, le) (rate(job_duration_seconds_bucket[${RATE}])))`,
              '{{job_name}} p99',
            ],
          ],
        },
      ],
    },
    {
      title: 'Outbox and webhooks',
      panels: [
        {
          title: 'Outbox lag',
          description:
            'Age of the oldest outbox row not yet relayed to a queue; the SLO wants it under a minute.',
          unit: 's',
          width: 8,
          queries: [['max(outbox_lag_seconds)', 'lag']],
        },
        {
          title: 'Outbox backlog',
          description: 'Outbox rows not yet relayed.',
          unit: 'short',
          width: 8,
          queries: [['max(outbox_backlog)', 'rows']],
        },
        {
          title: 'Webhook deliveries',
          description:
            'Delivery attempts: delivered, failed (will retry), dead_letter, skipped (endpoint disabled or gone).',
          unit: 'ops',
          width: 8,
          stack: true,
          queries: [[`sum by (outcome) (rate(webhook_deliveries_total[${RATE}]))`, '{{outcome}}']],
        },
      ],
    },
    runtimeRow('worker'),
  ],
})

/** Thresholds of the burn-rate alerts, drawn on the burn-rate panels. */
export const SLO_DASHBOARD = dashboard({
  uid: 'groundwork-slos',
  title: 'Groundwork / SLOs',
  description:
    'Each SLO’s error ratio and burn rate (1 = spending the 30-day budget exactly in 30 days). Pages fire at 14.4x (1 h) and 6x (6 h), tickets at 3x (1 d) and 1x (3 d).',
  rows: SLOS.map((slo) => ({
    title: slo.title,
    panels: [
      {
        title: 'Burn rate',
        description: `Error ratio over each alert window divided by the budget (1 - ${slo.objective}).`,
        unit: 'x',
        min: 0,
        queries: ['5m', '1h', '6h', '1d', '3d'].map((window) => [
          `slo:sli_error:ratio_rate${window}{slo="${slo.name}"}\n/ on (slo)\n(1 - slo:objective:ratio{slo="${slo.name}"})`,
          window,
        ]),
      },
      {
        title: 'Good share (1 day)',
        description: `The share of good events over the last day, against the objective of ${slo.objective * 100} %.`,
        type: 'stat',
        unit: 'percentunit',
        queries: [[`1 - slo:sli_error:ratio_rate1d{slo="${slo.name}"}`, 'good']],
      },
    ],
  })),
})

export const DASHBOARDS = {
  'api.json': API_DASHBOARD,
  'worker.json': WORKER_DASHBOARD,
  'slos.json': SLO_DASHBOARD,
}
