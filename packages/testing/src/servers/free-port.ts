import { createServer } from 'node:net'

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isPortInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(true))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)))
  })
}

/** A server exited at start-up because another process listens on its port. */
export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE'
}

/**
 * Starts a server on a port that was free a moment ago. Postgres and Redis cannot bind
 * port 0 and report what they got, so another process may take the port between our
 * choice and their bind: then, and only then (PortInUseError), start again on another.
 */
export async function startOnFreePort<T>(
  start: (port: number) => Promise<T>,
  {
    attempts = 5,
    choosePort = freePort,
  }: { attempts?: number; choosePort?: () => Promise<number> } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await choosePort())
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= attempts) throw error
    }
  }
}
