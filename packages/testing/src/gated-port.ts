import { type AddressInfo, connect, createServer, type Socket } from 'node:net'

export interface GatedPort {
  port: number
  /** When each connection arrived (performance.now()), forwarded or not. */
  arrivals: readonly number[]
  /** Forward connections to the target from now on. */
  open(): void
  /** Reset every connection, those already forwarded included, until open() is called. */
  shut(): void
  /**
   * Stop forwarding on every connection forwarded so far, both ways, without closing it: a
   * peer gone silent (a frozen host, a dropped NAT entry). New connections are forwarded.
   */
  silence(): void
  close(): Promise<void>
}

/**
 * A loopback port this process holds for a dependency that goes down and comes back:
 * while shut it resets every connection; while open it forwards them to `target` (a port
 * on 127.0.0.1). A port nobody listens on, or one freed by stopping a server, may be taken
 * by another process, which then answers in the dependency's place; this one never is.
 */
export async function startGatedPort(options: { target?: number } = {}): Promise<GatedPort> {
  let isOpen = false
  const sockets = new Set<Socket>()
  const forwarded = new Set<[Socket, Socket]>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
  }
  const arrivals: number[] = []
  const server = createServer((client) => {
    arrivals.push(performance.now())
    track(client)
    if (!isOpen || options.target === undefined) return void client.resetAndDestroy()
    const upstream = connect(options.target, '127.0.0.1')
    track(upstream)
    client.pipe(upstream).pipe(client)
    const pair: [Socket, Socket] = [client, upstream]
    forwarded.add(pair)
    client.once('close', () => {
      forwarded.delete(pair)
      upstream.destroy()
    })
    upstream.once('close', () => client.destroy())
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  const shutAll = () => {
    for (const socket of sockets) socket.resetAndDestroy()
  }
  return {
    port: (server.address() as AddressInfo).port,
    arrivals,
    open: () => {
      if (options.target === undefined) throw new Error('a gated port without a target')
      isOpen = true
    },
    shut: () => {
      isOpen = false
      shutAll()
    },
    silence: () => {
      for (const [client, upstream] of forwarded) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
      forwarded.clear()
    },
    close: () =>
      new Promise((closed) => {
        shutAll()
        server.close(() => closed())
      }),
  }
}
