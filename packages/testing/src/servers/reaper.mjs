// Watchdog for servers started by tests and `pnpm dev`: when the process that started
// them disappears without stopping them, stop them and delete their temporary files.
// Plain JavaScript so it runs on bare Node without a TypeScript loader.
import { readFileSync, rmSync } from 'node:fs'

const { parentPid, pid, pidFile, signal, dirs } = JSON.parse(process.argv[2])

const alive = (p) => {
  try {
    process.kill(p, 0)
    return true
  } catch (error) {
    return error.code === 'EPERM'
  }
}

/**
 * The server to stop: a fixed pid (or -pgid), or the live process its own pid file names
 * now (a file left by an earlier run may name a process long gone).
 */
function target() {
  if (pid) return pid
  try {
    const fromFile = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
    return Number.isInteger(fromFile) && fromFile > 0 && alive(fromFile) ? fromFile : undefined
  } catch {
    return undefined
  }
}

// Dismissed by the owner once the server is stopped and its files are gone.
process.on('SIGTERM', () => process.exit(0))

// Remember the server's pid as soon as its pid file appears: whoever cleans up after a
// crash may delete the file before we look (Postgres stops by itself when its data dir
// goes; Redis does not). The owner reads the pid from our stdout, so it can wait until we
// know it; once the owner is gone, nobody reads, and a failed write must not kill us.
let remembered
process.stdout.on('error', () => {})

// Look often until the pid is known, then settle to a slower beat.
let timer = setInterval(tick, 50)

function tick() {
  if (alive(parentPid)) {
    if (remembered === undefined) {
      remembered = target()
      if (remembered !== undefined) {
        process.stdout.write(`${remembered}\n`)
        clearInterval(timer)
        timer = setInterval(tick, 250)
      }
    }
    return
  }
  clearInterval(timer)
  const victim = target() ?? remembered
  if (victim && alive(victim)) {
    try {
      process.kill(victim, signal)
    } catch {}
  }
  const deadline = Date.now() + 10_000
  const waitThenClean = () => {
    if (victim && alive(victim) && Date.now() < deadline) return setTimeout(waitThenClean, 100)
    if (victim && alive(victim)) {
      try {
        process.kill(victim, 'SIGKILL')
      } catch {}
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  }
  waitThenClean()
}
