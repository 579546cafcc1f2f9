export interface PostgresServer {
  kind: 'local' | 'container'
  /** Superuser URL to the `postgres` maintenance database. */
  url: string
  host: string
  port: number
  /** Server process id (local servers only). */
  pid?: number
  /** Where the server comes from, for logs. */
  description: string
  stop(): Promise<void>
}

export interface RedisServer {
  kind: 'local' | 'container'
  url: string
  host: string
  port: number
  pid?: number
  description: string
  stop(): Promise<void>
}
