import { type AddressInfo, connect, createServer, type Socket } from 'node:net'

/**
 * One round trip as Postgres sees it: a simple-protocol query (`Q`), or an
 * extended-protocol batch ending in `Sync` with the statements it ran. Either way the
 * client waits for the server's ReadyForQuery before its next one.
 */
export interface RoundTrip {
  protocol: 'simple' | 'extended'
  /**
   * The query text (simple), or the texts of the statements bound in the batch: parsed in
   * it, or named and parsed earlier on the same connection.
   */
  sql: string
}

export interface WireRecorder {
  /** `url` (a Postgres URL) with its host and port replaced by the recorder's. */
  url(target: string): string
  /** Every round trip sent through the recorder since the last `clear()`, in order. */
  roundTrips: RoundTrip[]
  /** How many statements each round trip (same index) parsed; a simple query counts 0. */
  parses: number[]
  clear(): void
  close(): Promise<void>
}

const SSL_OR_GSS_REQUEST = new Set([80877103, 80877104])

/**
 * A loopback TCP proxy in front of Postgres that reads what clients send (the frontend
 * messages of the v3 protocol) and records each round trip: what reached the wire, not
 * what the code above the driver meant to send.
 */
export async function startWireRecorder(target: string): Promise<WireRecorder> {
  const upstream = new URL(target)
  const roundTrips: RoundTrip[] = []
  const parses: number[] = []
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const backend = connect(Number(upstream.port || 5432), upstream.hostname)
    for (const socket of [client, backend]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.once('close', () => sockets.delete(socket))
    }
    client.once('close', () => backend.destroy())
    backend.once('close', () => client.destroy())
    backend.pipe(client)
    let buffered = Buffer.alloc(0)
    let started = false
    // The statements this connection has parsed, by name ('' the unnamed one).
    const statements = new Map<string, string>()
    let bound: string[] = []
    let parsed = 0
    client.on('data', (chunk: Buffer) => {
      backend.write(chunk)
      buffered = Buffer.concat([buffered, chunk])
      for (;;) {
        // Before the startup message, messages have no type byte: length, then a code.
        if (!started) {
          if (buffered.length < 8) return
          const length = buffered.readInt32BE(0)
          if (buffered.length < length) return
          started = !SSL_OR_GSS_REQUEST.has(buffered.readInt32BE(4))
          buffered = buffered.subarray(length)
          continue
        }
        if (buffered.length < 5) return
        const length = buffered.readInt32BE(1)
        if (buffered.length < length + 1) return
        const type = String.fromCharCode(buffered[0] as number)
        const body = buffered.subarray(5, length + 1)
        buffered = buffered.subarray(length + 1)
        if (type === 'Q') {
          roundTrips.push({ protocol: 'simple', sql: cString(body, 0).text })
          parses.push(0)
        }
        if (type === 'P') {
          const name = cString(body, 0)
          statements.set(name.text, cString(body, name.end + 1).text)
          parsed += 1
        }
        // Bind: the portal's name, then the statement's.
        if (type === 'B') {
          const statement = cString(body, cString(body, 0).end + 1).text
          bound.push(statements.get(statement) ?? `<unknown statement ${statement}>`)
        }
        if (type === 'S') {
          roundTrips.push({ protocol: 'extended', sql: bound.join('; ') })
          parses.push(parsed)
          bound = []
          parsed = 0
        }
      }
    })
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  const { port } = server.address() as AddressInfo
  return {
    url(url) {
      const through = new URL(url)
      through.hostname = '127.0.0.1'
      through.port = String(port)
      return through.toString()
    },
    roundTrips,
    parses,
    clear: () => {
      roundTrips.length = 0
      parses.length = 0
    },
    close: () =>
      new Promise((closed) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => closed())
      }),
  }
}

function cString(buffer: Buffer, start: number): { text: string; end: number } {
  const end = buffer.indexOf(0, start)
  return { text: buffer.toString('utf8', start, end), end }
}
