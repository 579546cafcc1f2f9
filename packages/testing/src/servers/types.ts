/** A running Postgres or Redis server, from local binaries or a container. */
export interface RunningServer {
  kind: 'local' | 'container'
  /** Postgres: superuser URL to the `postgres` maintenance database. Redis: base URL. */
  url: string
  host: string
  port: number
  /** Server process id (local servers only). */
  pid?: number
  /** Where the server comes from, for logs. */
  description: string
  stop(): Promise<void>
}

export type PostgresServer = RunningServer
export type RedisServer = RunningServer
