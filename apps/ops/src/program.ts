import { isAppError } from '@repo/core'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { rotateKey } from './commands/api-keys.ts'
import { runBackup } from './commands/backups.ts'
import { maintenanceOff, maintenanceOn, maintenanceStatus } from './commands/maintenance.ts'
import { migrationsStatus } from './commands/migrations.ts'
import { listQueues, setQueuesPaused } from './commands/queues.ts'
import { revokeSessions } from './commands/sessions.ts'
import { unblock } from './commands/unblock.ts'
import { rotateEndpointSecret } from './commands/webhooks.ts'
import { firstLine, type GlobalOptions, type Io, OpsContext } from './context.ts'
import { EXIT, isUnavailable, OpsError } from './errors.ts'

type Source = Record<string, string | undefined>

const EPILOG = `
Exit codes: 0 done (or already so), 1 failed, 2 usage, 3 not found, 4 not confirmed,
5 Postgres or Redis unreachable (nothing changed), 6 environment incomplete,
7 migrations not up to date. Every change is recorded in the audit log with the
operator's name. docs/runbooks/operations.md says when to use each command.`

const seconds = (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 600)
    throw new InvalidArgumentError('a whole number of seconds, 0 to 600')
  return n
}

/**
 * `pnpm ops`: the commands, their help, and one mapping from every outcome to an exit
 * code and a message (never a stack trace). Returns the exit code.
 */
export async function runOps(argv: string[], io: Io, env: Source): Promise<number> {
  let context: OpsContext | undefined
  const program = new Command('ops')
  // Set before the subcommands are added, which inherit them.
  program
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)')
    .description('Operations on a running Groundwork: what an on-call person needs, audited.')
    .addOption(
      new Option(
        '--operator <name>',
        'who is acting, for the audit log (required in production)',
      ).env('OPS_OPERATOR'),
    )
    .option('-y, --yes', 'do not ask before destructive changes (for scripts)')
    .addHelpText('after', EPILOG)

  /** Runs a command with a context made from the global options. */
  const act =
    <A extends unknown[]>(work: (ctx: OpsContext, ...args: A) => Promise<void>) =>
    async (...args: A) => {
      context = new OpsContext(io, env, program.opts<GlobalOptions>())
      await work(context, ...args)
    }

  const sessions = program.command('sessions').description("users' sessions")
  sessions
    .command('revoke <user>')
    .description('sign a user out everywhere (email or id); asks for their email')
    .action(act((ctx, user: string) => revokeSessions(ctx, user)))

  const apiKeys = program.command('api-keys').description("organizations' API keys")
  apiKeys
    .command('rotate <id>')
    .description(
      'give an API key a new secret (same id, name and prefix); the old secret stops working at once; asks for its prefix',
    )
    .option('--force', 'rotate again even though it was rotated in the last 15 minutes')
    .action(act((ctx, id: string, options: { force?: boolean }) => rotateKey(ctx, id, options)))

  const webhooks = program.command('webhooks').description("organizations' webhook endpoints")
  webhooks
    .command('rotate-secret <id>')
    .description(
      'give an endpoint a new signing secret; the current one keeps signing beside it for WEBHOOK_SECRET_GRACE_HOURS',
    )
    .option('--force', "rotate again while the previous rotation's grace period runs")
    .action(
      act((ctx, id: string, options: { force?: boolean }) =>
        rotateEndpointSecret(ctx, id, options),
      ),
    )

  const backups = program.command('backups').description('database backups')
  backups
    .command('run')
    .description('back up now: the nightly backup job, queued through the outbox')
    .option('--wait <seconds>', 'how long to wait for the job to reach the queue', seconds, 10)
    .action(act((ctx, options: { wait: number }) => runBackup(ctx, options)))

  const queues = program.command('queues').description('job queues (BullMQ)')
  queues
    .command('list')
    .description('each queue: paused or running, and its jobs by state')
    .action(act((ctx) => listQueues(ctx)))
  queues
    .command('pause [queues...]')
    .description(
      'stop every worker taking jobs from these queues (running jobs finish); asks for their names',
    )
    .option('--all', 'every queue')
    .action(
      act((ctx, names: string[], options: { all?: boolean }) =>
        setQueuesPaused(ctx, names, options, true),
      ),
    )
  queues
    .command('resume [queues...]')
    .description('let workers take jobs from these queues again')
    .option('--all', 'every queue')
    .action(
      act((ctx, names: string[], options: { all?: boolean }) =>
        setQueuesPaused(ctx, names, options, false),
      ),
    )

  const migrations = program.command('migrations').description('database migrations')
  migrations
    .command('status')
    .description("the database against this build's migrations (needs MIGRATION_DATABASE_URL)")
    .action(act((ctx) => migrationsStatus(ctx)))

  const unblocking = program
    .command('unblock')
    .description('clear the throttles and rate limits that refuse someone right now')
  unblocking
    .command('user <user>')
    .description(
      'a user (email or id): sign-in throttles, second-factor backoff, resend counters, rate limits',
    )
    .option('--ip <address>', 'also what counts against them from this address')
    .action(
      act((ctx, user: string, options: { ip?: string }) =>
        unblock(ctx, { user, address: options.ip }),
      ),
    )
  unblocking
    .command('ip <address>')
    .description("an address's rate limits (an IPv6 address counts as its /64)")
    .action(act((ctx, address: string) => unblock(ctx, { address })))

  const maintenance = program
    .command('maintenance')
    .description('read-only maintenance mode: the API refuses every change with 503')
  maintenance
    .command('on')
    .description('turn it on (or change the message or end of the current window)')
    .option('--message <text>', 'what people are told (default: a general notice)')
    .option('--for <length>', 'how long, up to 24h: 30m, 2h, 1h30m (default 1h)')
    .action(act((ctx, options: { message?: string; for?: string }) => maintenanceOn(ctx, options)))
  maintenance
    .command('off')
    .description('turn it off: changes are accepted again')
    .action(act((ctx) => maintenanceOff(ctx)))
  maintenance
    .command('status')
    .description('whether it is on, until when, by whom')
    .action(act((ctx) => maintenanceStatus(ctx)))

  try {
    // Areas without a subcommand show their help.
    for (const area of program.commands)
      if (area.commands.length > 0) area.action(() => area.help({ error: true }))
    await program.parseAsync(argv, { from: 'user' })
    if (argv.length === 0) program.help({ error: true })
    return EXIT.ok
  } catch (error) {
    return report(io, error)
  } finally {
    await context?.close()
  }
}

/** Every outcome as a message and an exit code. */
function report(io: Io, error: unknown): number {
  if (error instanceof CommanderError) {
    // Help asked for is success; help shown for a missing command is a usage error.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
      return EXIT.ok
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage
  }
  if (error instanceof OpsError) {
    io.stderr.write(`ops: ${error.message}\n`)
    return error.exitCode
  }
  if (isAppError(error)) {
    io.stderr.write(`ops: ${error.userMessage}\n`)
    return error.code === 'not_found' ? EXIT.notFound : EXIT.failed
  }
  if (isUnavailable(error)) {
    io.stderr.write(
      `ops: Postgres or Redis stopped answering: ${firstLine(error)}. Check what was done before re-running (every command is safe to re-run).\n`,
    )
    return EXIT.unavailable
  }
  io.stderr.write(`ops: failed: ${firstLine(error)}\n`)
  return EXIT.failed
}
