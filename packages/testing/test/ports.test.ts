import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import {
  freePort,
  PortInUseError,
  type RedisServer,
  startLocalPostgres,
  startLocalRedis,
  startOnFreePort,
} from '../src/servers/index.ts'

// Postgres and Redis are given a port that was free a moment ago; another process may take
// it before they bind it. Then the start fails as "port in use", precisely, and is retried.
const scratch = mkdtempSync(join(tmpdir(), 'groundwork-ports-test-'))
// As root, Postgres runs as the postgres user, which must be able to enter it.
chmodSync(scratch, 0o755)
const listeners: Server[] = []
const sockets: Socket[] = []
afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await Promise.all(listeners.map((server) => new Promise((done) => server.close(done))))
  rmSync(scratch, { recursive: true, force: true })
})

/** Takes a port with a listener that answers every Redis command with `reply` (or nothing). */
async function takePort(reply?: string): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    // A client may send several commands at once: one reply per command (RESP array).
    if (reply)
      socket.on('data', (chunk) =>
        socket.write(reply.repeat(chunk.toString().split('*').length - 1)),
      )
  })
  listeners.push(server)
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  return (server.address() as { port: number }).port
}

describe('a server whose port another process took', () => {
  it('Postgres fails with PortInUseError, never reporting the server that holds the port as its own', async () => {
    // The taker is the run's own Postgres: it accepts the same superuser login.
    const port = Number(new URL(inject('groundworkServices').postgresUrl).port)
    const dataDir = join(scratch, 'pg')
    const started = startLocalPostgres({ dataDir, port, persistent: false, ephemeral: true })
    await expect(started).rejects.toBeInstanceOf(PortInUseError)
    expect(existsSync(dataDir)).toBe(false)
  }, 60_000)

  it('Redis fails with PortInUseError when the taker answers every command like a Redis', async () => {
    const port = await takePort('+PONG\r\n')
    const dataDir = join(scratch, 'redis-pong')
    const started = startLocalRedis({ dataDir, port, persistent: false })
    await expect(started).rejects.toBeInstanceOf(PortInUseError)
    expect(existsSync(dataDir)).toBe(false)
  })

  it('Redis fails with PortInUseError when the taker accepts and never answers', async () => {
    const port = await takePort()
    const started = startLocalRedis({
      dataDir: join(scratch, 'redis-silent'),
      port,
      persistent: false,
    })
    await expect(started).rejects.toBeInstanceOf(PortInUseError)
  })
})

describe('startOnFreePort', () => {
  it('starts again on another port when the first was taken', async () => {
    const ports = [await takePort('+PONG\r\n'), await freePort()]
    const tried: number[] = []
    const server: RedisServer = await startOnFreePort(
      (port) => {
        tried.push(port)
        return startLocalRedis({ dataDir: join(scratch, 'redis-retry'), port, persistent: false })
      },
      { choosePort: async () => ports.shift() as number },
    )
    try {
      expect(tried).toHaveLength(2)
      expect(server.port).toBe(tried[1])
    } finally {
      await server.stop()
    }
  })

  it('does not retry a start that failed for another reason', async () => {
    let attempts = 0
    const started = startOnFreePort(async () => {
      attempts++
      throw new Error('bad configuration')
    })
    await expect(started).rejects.toThrow('bad configuration')
    expect(attempts).toBe(1)
  })
})
