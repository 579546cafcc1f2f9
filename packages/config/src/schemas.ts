import { isIP } from 'node:net'
import { z } from 'zod'

/** Helpers for env values, which always arrive as strings. */
const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback)
export const positiveInt = (fallback: number) =>
  z.coerce.number().int().positive().default(fallback)
export const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1')

const postgresUrl = z
  .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
  .describe('Postgres connection string')
const redisUrl = z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })

/** Where `pnpm dev` runs Postgres and Redis unless .env says otherwise. */
export const devDefaults = {
  /** The application's login: a member of groundwork_app, subject to row-level security. */
  DATABASE_URL: 'postgresql://groundwork:groundwork@127.0.0.1:5432/groundwork',
  /** The worker's login: the application's rights plus the outbox relay's functions. */
  WORKER_DATABASE_URL: 'postgresql://groundwork_worker_login:groundwork@127.0.0.1:5432/groundwork',
  /** The owner/admin that runs migrations and seeds. */
  MIGRATION_DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:5432/groundwork',
  REDIS_URL: 'redis://127.0.0.1:6379',
} as const

/** Development defaults of URLs that production must set (productionChecks refuses these). */
const DEV_APP_URL = 'http://127.0.0.1:3000'
const DEV_SMTP_URL = 'smtp://127.0.0.1:1025'

export const runtimeEnv = z.object({
  /**
   * Unset means production: every app fails closed, refusing to start without real secrets
   * and URLs, unless it is told it runs in development or a test. `pnpm dev` says
   * development; the test set-up says test.
   */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  APP_VERSION: z.string().default('0.0.0'),
  GIT_COMMIT: z.string().default('unknown'),
})

export const databaseEnv = z.object({
  DATABASE_URL: postgresUrl,
  /** Connections per process; size it so replicas x pool stays under Postgres max_connections. */
  DATABASE_POOL_MAX: positiveInt(10),
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt(5_000),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt(10_000),
  /**
   * A write in one round trip and a read of our own SQL (readSqlWithTenant) prepare their
   * statements once per connection, by name (ADR 049). Turn off only behind a pooler in
   * transaction mode that does not keep named statements per client (PgBouncer before
   * 1.21, or max_prepared_statements = 0): they stay correct there, retrying once when a
   * statement is missing, but slower.
   * Unset means on.
   */
  DATABASE_NAMED_STATEMENTS: booleanFlag(true).optional(),
})

/** The owner's login, for migrations and seeding (the app's login may not alter the schema). */
export const migrationEnv = z.object({
  MIGRATION_DATABASE_URL: postgresUrl,
})

/**
 * Logical backups (`pnpm db:backup`, `pnpm db:restore` and the worker's nightly job); see
 * docs/runbooks/backup-and-restore.md and ADR 024.
 */
export const backupEnv = z.object({
  /**
   * Where backups go: an absolute directory, or s3://bucket/prefix. Unset: the nightly job
   * logs a warning and does nothing.
   */
  BACKUP_DESTINATION: z
    .string()
    .trim()
    .regex(
      /^(\/|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$))/,
      'must be an absolute directory path or s3://bucket/prefix',
    )
    .optional(),
  /**
   * An age key (`pnpm db:backup keygen`): an identity (AGE-SECRET-KEY-1...) encrypts and
   * decrypts; a recipient (age1...), its public half, only encrypts, so the host that makes
   * backups need not hold what reads them. Unset: dumps are stored unencrypted.
   */
  BACKUP_ENCRYPTION_KEY: z
    .string()
    .trim()
    .regex(
      /^(AGE-SECRET-KEY-(PQ-)?1[02-9AC-HJ-NP-Z]+|age1(pq1)?[02-9ac-hj-np-z]+)$/,
      'must be an age identity (AGE-SECRET-KEY-1...) or recipient (age1...); `pnpm db:backup keygen` makes a pair',
    )
    .optional(),
  /** After a successful backup, older ones of the same database are deleted; 0 keeps all. */
  BACKUP_RETENTION_DAYS: z.coerce.number().int().min(0).default(30),
  /**
   * The login that dumps: it must read every row (a superuser, or a role WITH BYPASSRLS).
   * Unset: MIGRATION_DATABASE_URL (the owner).
   */
  BACKUP_DATABASE_URL: postgresUrl.optional(),
  /** An S3-compatible endpoint (MinIO, R2, ...); unset: AWS. Credentials and region: the AWS_* variables. */
  BACKUP_S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** Path-style bucket URLs (most S3-compatible stores need them). */
  BACKUP_S3_FORCE_PATH_STYLE: booleanFlag(false),
  /** The bin directory of pg_dump/pg_restore (of the server's major or newer); unset: PATH. */
  PG_BIN_DIR: z.string().min(1).optional(),
})

export const redisEnv = z.object({
  REDIS_URL: redisUrl,
  REDIS_CONNECT_TIMEOUT_MS: positiveInt(5_000),
})

export const apiServerEnv = z.object({
  API_HOST: z.string().default('127.0.0.1'),
  /** 0: any free port, named by the "Server listening at" log line (tests start many APIs). */
  API_PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  /** Max time for in-flight requests to finish on SIGTERM before the process exits. */
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  /**
   * On SIGTERM, how long to keep serving while /readyz reports 503, so load balancers stop
   * sending traffic before the listener closes. Set it above the readiness probe period
   * in production (e.g. 5000 with a 2 s probe); 0 closes at once.
   */
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /**
   * Browser origins allowed to call the API directly (comma-separated). Empty: none; the
   * web app calls the API from its server, so browsers need no CORS.
   */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ error: 'must list origins like https://app.example.com' }))),
  /**
   * Which proxies may tell us the client address (X-Forwarded-For): `loopback` (the web
   * app's server on the same host), a comma-separated list of IPs/CIDRs (a load balancer's
   * subnet), or `false`. Per-IP limits need the real client address, not the proxy's.
   * Unset: `loopback` in development and tests; required in production, where a wrong
   * guess either shares one address among every user (one limit for all, which anyone
   * could exhaust) or lets clients forge theirs.
   */
  TRUST_PROXY: z.string().min(1).optional(),
  /**
   * The API's public URL (https://api.example.com), for links the API hands out (the
   * queue dashboard's). Required in production; unset elsewhere: http://API_HOST:API_PORT.
   */
  API_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Interactive API reference (Scalar) at /docs. Default: on except in production, where
   * you enable it deliberately.
   */
  API_DOCS_ENABLED: z.enum(['true', 'false', 'auto']).default('auto'),
  /**
   * Load shedding (@fastify/under-pressure): past these, requests get 503 with
   * Retry-After instead of queueing until everything times out. 0 turns a check off.
   */
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
  PRESSURE_MAX_EVENT_LOOP_UTILIZATION: z.coerce.number().min(0).max(1).default(0.98),
  PRESSURE_SAMPLE_INTERVAL_MS: positiveInt(1_000),
  /** Readiness checks give up on a dependency after this long and report it as down. */
  READINESS_TIMEOUT_MS: positiveInt(1_000),
  /**
   * A readiness answer is reused this long: however many probes arrive, the dependencies
   * are checked at most once per period (and one check at a time).
   */
  READINESS_CACHE_MS: z.coerce.number().int().min(0).default(500),
  /** A request (headers and body included) must arrive within this; slow clients are cut off. */
  REQUEST_TIMEOUT_MS: positiveInt(30_000),
  /**
   * How often each API instance reads the maintenance window (`pnpm ops maintenance`) from
   * Redis: a window opened or closed reaches every instance within this long.
   */
  MAINTENANCE_REFRESH_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** How long an Idempotency-Key's answer is kept for replay. */
  IDEMPOTENCY_KEY_TTL_HOURS: positiveInt(24),
  /**
   * How long an API instance keeps a session (with its user) and a membership in memory
   * instead of reading them from Postgres on every request (ADR 035). Revocations, sign-outs,
   * password, MFA and role changes reach every instance at once through Redis; this is how
   * long a copy can outlive one when that announcement is lost. 0 turns the cache off.
   */
  ACCESS_CACHE_TTL_MS: z.coerce.number().int().min(0).max(10_000).default(5_000),
  /** At most this many sessions, and this many memberships, per API instance (least recently used go). */
  ACCESS_CACHE_MAX_ENTRIES: positiveInt(10_000),
  /**
   * Default limits per minute on every route, counted in Redis (so across instances):
   * per client IP, per signed-in user or API key, and per organization. A route may set
   * its own (`config.limits`). Auth routes are stricter (AUTH_RATE_LIMIT_PER_MINUTE).
   */
  RATE_LIMIT_IP_PER_MINUTE: positiveInt(600),
  RATE_LIMIT_USER_PER_MINUTE: positiveInt(300),
  RATE_LIMIT_ORG_PER_MINUTE: positiveInt(1_200),
  /**
   * IPv6 clients count as their network of this prefix for every per-address limit and
   * throttle: one host usually holds a whole /64.
   */
  RATE_LIMIT_IPV6_PREFIX: z.coerce.number().int().min(32).max(128).default(64),
  /** Invitation emails (new and resent) per minute, per inviting user and per organization. */
  INVITATION_RATE_LIMIT_USER_PER_MINUTE: positiveInt(10),
  INVITATION_RATE_LIMIT_ORG_PER_MINUTE: positiveInt(30),
  /** Signing secret of the Stripe webhook endpoint (`whsec_...`); unset: the route is off. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** How old a signed Stripe delivery may be (replays of older ones are refused). */
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: positiveInt(300),
  /** Quotas: how many projects an organization, and tasks a project, may hold. */
  QUOTA_PROJECTS_PER_ORGANIZATION: positiveInt(1_000),
  QUOTA_TASKS_PER_PROJECT: positiveInt(10_000),
})

export const webServerEnv = z.object({
  WEB_PORT: port(3000),
  /** Where the web server reaches the API (server to server; browsers never call it). */
  API_URL: z.url().default('http://127.0.0.1:4000'),
  /**
   * How many reverse proxies stand in front of the web server, each appending the address
   * it saw to X-Forwarded-For. The end user's address is the one that many entries from
   * the right, counting the connection's own peer; 0 (no proxy) ignores the header, so a
   * client cannot choose the address the API rate-limits and records.
   */
  WEB_TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
})

export const loggingEnv = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Human-readable logs for local development; JSON otherwise. */
  LOG_PRETTY: booleanFlag(false),
  /**
   * Keep email addresses in log lines. Off: every email-like string becomes `[email]`,
   * so logs hold no personal data unless a team decides they may (ADR 031).
   */
  LOG_EMAILS: booleanFlag(false),
})

export const sentryEnv = z.object({
  /** Sentry is inactive when no DSN is set. */
  SENTRY_DSN: z.url().optional(),
  SENTRY_ENVIRONMENT: z.string().optional(),
  SENTRY_TRACES_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0),
})

/**
 * The Node services' instrumentations by the names OTEL_NODE_ENABLED_INSTRUMENTATIONS and
 * OTEL_NODE_DISABLED_INSTRUMENTATIONS use (OpenTelemetry's, without the
 * `@opentelemetry/instrumentation-` prefix; prisma is @prisma/instrumentation, fastify
 * @fastify/otel).
 */
export const NODE_INSTRUMENTATIONS = [
  'http',
  'undici',
  'pg',
  'ioredis',
  'prisma',
  'fastify',
] as const

/** A comma-separated list of instrumentation names; a name nobody knows is an error. */
const instrumentationList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(NODE_INSTRUMENTATIONS)))
  .optional()

/**
 * OpenTelemetry tracing, named as the OpenTelemetry specification names them so any
 * collector's instructions apply unchanged. Off (the SDK is never loaded) until an OTLP
 * endpoint is set, or Sentry's tracing is asked for (its spans are OpenTelemetry's too).
 */
export const tracingEnv = z.object({
  /** OTLP/HTTP base URL of a collector: spans go to <endpoint>/v1/traces, as JSON. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Headers for the collector (`key=value,key2=value2`), e.g. an API key. */
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  /** Instead of the service's own name (api, worker, web). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** Extra resource attributes (`key=value,...`), e.g. `deployment.region=eu-west-1`. */
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  /** Head sampling; the default keeps every trace (parentbased_always_on). */
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .optional(),
  /** The ratio for the *traceidratio samplers, 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  /** true: never start the SDK, whatever else is set. */
  OTEL_SDK_DISABLED: booleanFlag(false),
  /** Only these instrumentations (NODE_INSTRUMENTATIONS' names); unset: all of them. */
  OTEL_NODE_ENABLED_INSTRUMENTATIONS: instrumentationList,
  /** Not these, applied after the list above. */
  OTEL_NODE_DISABLED_INSTRUMENTATIONS: instrumentationList,
})

export const posthogEnv = z.object({
  /** PostHog is inactive when no key is set. */
  POSTHOG_KEY: z.string().min(1).optional(),
  POSTHOG_HOST: z.url().default('https://eu.i.posthog.com'),
  /** A personal API key (phx_) or project secret key (phs_): feature flags evaluated locally. */
  POSTHOG_PERSONAL_API_KEY: z.string().min(1).optional(),
  /** How long a feature-flag check waits for PostHog before answering the flag's default. */
  POSTHOG_FLAG_TIMEOUT_MS: z.coerce.number().int().min(10).max(5_000).default(300),
  /** Emails, names and other personal keys stay in event properties only when true. */
  POSTHOG_ALLOW_PERSONAL_PROPERTIES: booleanFlag(false),
})

export const observabilityEnv = loggingEnv
  .extend(sentryEnv.shape)
  .extend(posthogEnv.shape)
  .extend(tracingEnv.shape)

export const workerEnv = z.object({
  /**
   * The worker's own database login (a member of groundwork_worker): only it may run the
   * outbox relay. Unset: DATABASE_URL, which must then be such a login.
   */
  WORKER_DATABASE_URL: postgresUrl.optional(),
  /**
   * Commits wake the outbox relay (ADR 038): one connection per worker LISTENs for the
   * outbox's trigger, so a job starts milliseconds after the commit that recorded it.
   * Off: the relay only polls, every OUTBOX_FALLBACK_POLL_MS.
   */
  OUTBOX_LISTEN: booleanFlag(true),
  /**
   * The listener's connection, which must keep its session: Postgres itself, or a
   * PgBouncer database in session mode (transaction pooling never delivers a
   * notification; the worker then warns once and polls). Unset: the worker's own
   * (WORKER_DATABASE_URL, else DATABASE_URL).
   */
  OUTBOX_LISTEN_DATABASE_URL: postgresUrl.optional(),
  /** The relay's safety-net poll while the listener hears commits. */
  OUTBOX_POLL_MS: positiveInt(5_000),
  /** The relay's poll while nothing wakes it: OUTBOX_LISTEN off, or the listener down. */
  OUTBOX_FALLBACK_POLL_MS: positiveInt(500),
  /** Jobs at once on the default queue (other queues: packages/jobs/src/queues.ts). */
  WORKER_CONCURRENCY: positiveInt(5),
  /**
   * A worker holds each running job's lock this long, renewing it while alive. A worker
   * that dies (SIGKILL, crash) stops renewing: once the lock lapses, the next stalled
   * check (every WORKER_STALLED_INTERVAL_MS) hands the job to another worker.
   */
  WORKER_LOCK_DURATION_MS: positiveInt(30_000),
  WORKER_STALLED_INTERVAL_MS: positiveInt(30_000),
  /** Max time for running jobs to finish on SIGTERM before the process exits. */
  SHUTDOWN_TIMEOUT_MS: positiveInt(30_000),
  /**
   * Liveness and readiness probes (GET /healthz, /readyz) for orchestrators and container
   * health checks, on their own port. Unset: no probe server (`pnpm dev`); 0: any free port.
   */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  WORKER_HEALTH_HOST: z.string().default('127.0.0.1'),
  /** A readiness check waits this long for Postgres and Redis before answering 503. */
  READINESS_TIMEOUT_MS: positiveInt(1_000),
  /**
   * How long the audit log keeps an entry (at least 30 days); a daily job deletes older
   * ones. Set it to what your compliance requires.
   */
  AUDIT_LOG_RETENTION_DAYS: z.coerce.number().int().min(30).default(365),
})

export interface OutboxSettings {
  /** Where the listener connects; undefined when OUTBOX_LISTEN is off. */
  listenUrl: string | undefined
  pollMs: number
  fallbackPollMs: number
}

/** The outbox relay's and listener's settings: the listener on the worker's own login by default. */
export function outboxSettings(
  env: Pick<
    z.infer<typeof workerEnv>,
    'OUTBOX_LISTEN' | 'OUTBOX_LISTEN_DATABASE_URL' | 'OUTBOX_POLL_MS' | 'OUTBOX_FALLBACK_POLL_MS'
  > &
    Pick<z.infer<typeof workerEnv>, 'WORKER_DATABASE_URL'> & { DATABASE_URL: string },
): OutboxSettings {
  return {
    listenUrl: env.OUTBOX_LISTEN
      ? (env.OUTBOX_LISTEN_DATABASE_URL ?? env.WORKER_DATABASE_URL ?? env.DATABASE_URL)
      : undefined,
    pollMs: env.OUTBOX_POLL_MS,
    fallbackPollMs: env.OUTBOX_FALLBACK_POLL_MS,
  }
}

export const authEnv = z.object({
  /** A session unused this long expires; use slides it forward. */
  SESSION_IDLE_TIMEOUT_HOURS: positiveInt(24 * 7),
  /** No session outlives this, however active. */
  SESSION_ABSOLUTE_LIFETIME_DAYS: positiveInt(30),
  /** Requests per minute and client IP to sign-up and sign-in (and later reset/verify). */
  AUTH_RATE_LIMIT_PER_MINUTE: positiveInt(10),
  /**
   * Argon2id hashes at once per process (each takes a libuv thread and a core for tens of
   * milliseconds), and how many may wait; past that, 503 with Retry-After. The thread pool
   * is sized above it (apps/api/src/thread-pool.ts) so DNS and files keep threads.
   */
  PASSWORD_HASH_CONCURRENCY: positiveInt(2),
  PASSWORD_HASH_QUEUE: positiveInt(32),
  /**
   * 32 random bytes, base64 (`openssl rand -base64 32`): encrypts secrets at rest (TOTP
   * keys, webhook signing secrets). Required in production; development and tests use a
   * fixed, public key.
   */
  MFA_ENCRYPTION_KEY: z
    .string()
    .refine(
      (value) => Buffer.from(value, 'base64').length === 32,
      'must be 32 bytes, base64-encoded',
    )
    .optional(),
})

/** The public key that development and tests seal secrets with. Never used in production. */
const DEVELOPMENT_SECRETS_KEY = Buffer.from('groundwork-development-only-key!', 'utf8')

/** The key of secrets at rest, from MFA_ENCRYPTION_KEY; the public development key without it. */
export function secretsKey(env: {
  NODE_ENV: string
  MFA_ENCRYPTION_KEY?: string | undefined
}): Buffer {
  const key = env.MFA_ENCRYPTION_KEY ? Buffer.from(env.MFA_ENCRYPTION_KEY, 'base64') : undefined
  // Validation refuses both already (productionChecks); a second wall for callers that skip it.
  if (env.NODE_ENV === 'production' && (!key || isDevelopmentSecretsKey(key)))
    throw new Error(
      'MFA_ENCRYPTION_KEY is required in production, and not the public development key',
    )
  return key ?? DEVELOPMENT_SECRETS_KEY
}

/** Whether `key` is the published development key (however it was encoded). */
function isDevelopmentSecretsKey(key: Buffer) {
  return key.equals(DEVELOPMENT_SECRETS_KEY)
}

/**
 * Values published in this repository (the development defaults): production must set its
 * own. A schema's default that points at this machine counts as not set.
 */
const PUBLISHED_DEFAULTS: Record<string, string> = {
  APP_URL: DEV_APP_URL,
  SMTP_URL: DEV_SMTP_URL,
}
const DATABASE_URL_KEYS = [
  'DATABASE_URL',
  'WORKER_DATABASE_URL',
  'OUTBOX_LISTEN_DATABASE_URL',
  'MIGRATION_DATABASE_URL',
]

/** user:password of a URL, decoded; undefined when it does not parse. */
function loginOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined
  const { username, password } = new URL(url)
  return `${decodeURIComponent(username)}:${decodeURIComponent(password)}`
}

/** The database logins this repository publishes (their passwords are in it). */
const PUBLISHED_LOGINS = new Set(
  [devDefaults.DATABASE_URL, devDefaults.WORKER_DATABASE_URL, devDefaults.MIGRATION_DATABASE_URL]
    .map(loginOf)
    .filter(Boolean),
)

/**
 * What production must set, for any process that reads secrets at rest, sends email or
 * webhooks, or links to the app: the secrets key, real URLs instead of the development
 * defaults (the published database passwords included), and the SSRF guard on. Checks
 * only the keys its schema has.
 */
export function productionChecks(
  env: {
    NODE_ENV: string
    MFA_ENCRYPTION_KEY?: string | undefined
    WEBHOOKS_ALLOW_PRIVATE_TARGETS?: boolean
  } & Record<string, unknown>,
  ctx: z.RefinementCtx,
) {
  if (env.NODE_ENV !== 'production') return
  if (!env.MFA_ENCRYPTION_KEY)
    ctx.addIssue({
      code: 'custom',
      path: ['MFA_ENCRYPTION_KEY'],
      message: 'is required in production (`openssl rand -base64 32`)',
    })
  else if (isDevelopmentSecretsKey(Buffer.from(env.MFA_ENCRYPTION_KEY, 'base64')))
    ctx.addIssue({
      code: 'custom',
      path: ['MFA_ENCRYPTION_KEY'],
      message:
        'is the public development key; production needs its own (`openssl rand -base64 32`)',
    })
  for (const [key, published] of Object.entries(PUBLISHED_DEFAULTS)) {
    if (env[key] === published)
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'is required in production (the development default points at this machine)',
      })
  }
  // The login, not the whole URL: the published password on another host is still public.
  for (const key of DATABASE_URL_KEYS) {
    const url = env[key]
    if (typeof url === 'string' && PUBLISHED_LOGINS.has(loginOf(url)))
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'uses a published development login; production needs its own',
      })
  }
  if (env.WEBHOOKS_ALLOW_PRIVATE_TARGETS)
    ctx.addIssue({
      code: 'custom',
      path: ['WEBHOOKS_ALLOW_PRIVATE_TARGETS'],
      message: 'must be false in production (it turns off the SSRF guard)',
    })
}

/** An internal address, or range, that webhook deliveries may reach with the SSRF guard on. */
export interface NetworkTarget {
  /** An IPv4 or IPv6 address; for a range, any address in it. */
  address: string
  /** The range's prefix length: 32 (IPv4) or 128 (IPv6) for a single address. */
  prefix: number
  /** The only port allowed; any port when unset. */
  port?: number | undefined
}

/**
 * One entry of a target list: an address or a CIDR range, with an optional port
 * (`10.0.0.5`, `10.0.0.5:8443`, `10.1.0.0/16`, `[fd00::5]:443`, `fd00::/64`). IPv6 takes
 * brackets when it has a port. Undefined when the entry is none of these.
 */
export function parseNetworkTarget(entry: string): NetworkTarget | undefined {
  const match =
    /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry) ??
    /^([\d.]+(?:\/\d{1,2})?)(?::(\d{1,5}))?$/.exec(entry) ??
    /^([\da-f:.]*:[\da-f:.]*(?:\/\d{1,3})?)()$/i.exec(entry)
  if (!match) return undefined
  const [address = '', bits] = (match[1] as string).split('/')
  const family = isIP(address)
  if (family === 0) return undefined
  const max = family === 4 ? 32 : 128
  const prefix = bits === undefined ? max : Number(bits)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined
  if (!match[2]) return { address, prefix }
  const port = Number(match[2])
  return port >= 1 && port <= 65_535 ? { address, prefix, port } : undefined
}

/** Outgoing webhooks: the SSRF guard, delivery timeouts, disabling and secret rotation. */
export const webhooksEnv = z.object({
  /**
   * Lets endpoints point at loopback, private, link-local and other non-public addresses.
   * Off by default; for development and tests (a receiver on 127.0.0.1). Refused in production.
   */
  WEBHOOKS_ALLOW_PRIVATE_TARGETS: booleanFlag(false),
  /**
   * Internal receivers endpoints may point at with the SSRF guard on (comma-separated):
   * addresses or CIDR ranges, each with an optional port, e.g. `10.0.0.5:8443`. Checked
   * like public addresses are, at registration and at every connection; every other
   * non-public address stays refused. Empty by default; allowed in production, where it
   * is the narrow alternative to WEBHOOKS_ALLOW_PRIVATE_TARGETS.
   */
  WEBHOOKS_ALLOWED_PRIVATE_TARGETS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const targets: NetworkTarget[] = []
      for (const entry of value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)) {
        const target = parseNetworkTarget(entry)
        if (target) targets.push(target)
        else
          ctx.addIssue({
            code: 'custom',
            message: `${entry} is not an address or CIDR range with an optional port (10.0.0.5:8443, 10.1.0.0/16, [fd00::5]:443)`,
          })
      }
      return targets
    }),
  /**
   * One delivery attempt gives up after this long (connect, send and answer). At most
   * 30 s: well inside the delivery job's own 60 s, so the attempt is always recorded.
   */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(10_000),
  /**
   * An endpoint is disabled after this many deliveries in a row failed (each after all its
   * retries, about four hours); its organization's admins are emailed.
   */
  WEBHOOK_DISABLE_AFTER_FAILURES: positiveInt(5),
  /** After a secret rotation, the previous secret keeps signing beside the new one this long. */
  WEBHOOK_SECRET_GRACE_HOURS: positiveInt(24),
  /**
   * Delivery attempts running at once for one organization, across every worker. A tenant
   * whose endpoints hang holds at most this many slots; the rest serve other tenants.
   */
  WEBHOOK_ORG_CONCURRENCY: positiveInt(5),
  /** Delivery attempts running at once to one endpoint, across every worker. */
  WEBHOOK_ENDPOINT_CONCURRENCY: positiveInt(2),
  /** Attempts in a row that failed (any delivery) before an endpoint's circuit opens. */
  WEBHOOK_CIRCUIT_OPEN_AFTER: positiveInt(3),
  /**
   * How long an open circuit holds attempts back before one probe; each failed probe
   * doubles it, up to 30 times this (15 minutes with the default).
   */
  WEBHOOK_CIRCUIT_COOLDOWN_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
})

export const emailEnv = z.object({
  /** Where the worker sends mail. `pnpm dev` runs a local sink on this port. */
  SMTP_URL: z
    .url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' })
    .default(DEV_SMTP_URL),
  EMAIL_FROM: z.string().min(3).default('Groundwork <no-reply@groundwork.dev>'),
  /** Give up on an SMTP server that does not answer. */
  SMTP_TIMEOUT_MS: positiveInt(10_000),
})

export const appUrlEnv = z.object({
  /** The web app's public URL: links in emails point here. */
  APP_URL: z.url().default(DEV_APP_URL),
})

/**
 * OAuth sign-in. A provider is enabled when its client id and secret are set. The
 * endpoints default to the real providers; tests point them at a local fake.
 */
export const oauthEnv = z.object({
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  GITHUB_AUTHORIZE_URL: z.url().default('https://github.com/login/oauth/authorize'),
  GITHUB_TOKEN_URL: z.url().default('https://github.com/login/oauth/access_token'),
  GITHUB_API_URL: z.url().default('https://api.github.com'),
  GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  GOOGLE_AUTHORIZE_URL: z.url().default('https://accounts.google.com/o/oauth2/v2/auth'),
  GOOGLE_TOKEN_URL: z.url().default('https://oauth2.googleapis.com/token'),
  GOOGLE_USERINFO_URL: z.url().default('https://openidconnect.googleapis.com/v1/userinfo'),
  /** Every call to a provider gives up after this long. */
  OAUTH_TIMEOUT_MS: positiveInt(10_000),
})

const metricsPort = (fallback: number) =>
  z.coerce.number().int().min(0).max(65_535).default(fallback)

/**
 * Prometheus metrics (GET /metrics, docs/observability.md "Metrics", ADR 029), served by
 * the api and the worker on a port of their own, never the public one.
 */
export const metricsEnv = z.object({
  /** `auto`: on in production, off in development and tests (where ports would collide). */
  METRICS_ENABLED: z.enum(['true', 'false', 'auto']).default('auto'),
  /** Where the metrics server binds; `0.0.0.0` for a scraper outside the pod (Kubernetes). */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * When set, a scrape must send `Authorization: Bearer <token>`: for scrapers outside the
   * pod network. Unset: the port's own reach (network policy) is the only guard.
   */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
})

/** The api's metrics port (0: any free port). The worker's is WORKER_METRICS_PORT. */
export const apiMetricsEnv = metricsEnv.extend({ METRICS_PORT: metricsPort(9464) })

/** The worker's metrics port: its own default, so api and worker on one host never collide. */
export const workerMetricsEnv = metricsEnv.extend({ WORKER_METRICS_PORT: metricsPort(9465) })

export interface MetricsSettings {
  enabled: boolean
  host: string
  port: number
  token?: string | undefined
}

/** Whether and where a process serves metrics, from the env and its own port variable. */
export function metricsSettings(
  env: z.infer<typeof metricsEnv> & { NODE_ENV: string },
  port: number,
): MetricsSettings {
  const enabled =
    env.METRICS_ENABLED === 'auto' ? env.NODE_ENV === 'production' : env.METRICS_ENABLED === 'true'
  return { enabled, host: env.METRICS_HOST, port, token: env.METRICS_TOKEN }
}
