import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino'

export type { Logger } from 'pino'

export interface LoggerConfig {
  /** Service name stamped on every line (api, worker, web, scripts). */
  service: string
  level: LoggerOptions['level']
  /** Pretty, colourised output for local development; JSON otherwise. */
  pretty: boolean
  version?: string
  /** Where JSON lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream
}

/**
 * Secrets and personal data that must never reach a log line. Paths cover both request
 * logging (`req.headers.*`) and objects logged by application code.
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.secret',
  '*.apiKey',
  'password',
  'token',
  'secret',
]

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    base: { service: config.service, ...(config.version ? { version: config.version } : {}) },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    ...(config.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: {
              colorize: true,
              translateTime: 'HH:MM:ss.l',
              ignore: 'pid,hostname,service,version',
            },
          },
        }
      : {}),
  }
  return config.destination && !config.pretty ? pino(options, config.destination) : pino(options)
}
