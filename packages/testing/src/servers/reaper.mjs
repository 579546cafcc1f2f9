// Watchdog for servers started by tests and `pnpm dev`: when the process that started
// them disappears without stopping them, stop them and delete their temporary dirs.
// Plain JavaScript so it runs on bare Node without a TypeScript loader.
import { rmSync } from 'node:fs'

const { parentPid, pid, signal, dirs } = JSON.parse(process.argv[2])

const alive = (p) => {
  try {
    process.kill(p, 0)
    return true
  } catch (error) {
    return error.code === 'EPERM'
  }
}

// Stopped on purpose by the owner: exit without touching the server.
process.on('SIGTERM', () => process.exit(0))

const timer = setInterval(() => {
  if (alive(parentPid)) return
  clearInterval(timer)
  try {
    process.kill(pid, signal)
  } catch {}
  const deadline = Date.now() + 10_000
  const waitThenClean = () => {
    if (alive(pid) && Date.now() < deadline) return setTimeout(waitThenClean, 100)
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  }
  waitThenClean()
}, 250)
