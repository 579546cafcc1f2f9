import { spawn } from 'node:child_process'
import { type FSWatcher, watch } from 'node:fs'
import { createRequire } from 'node:module'

// The generator as a command: it runs in a child process, so pnpm dev's own event loop
// (Ctrl-C, the mail sink) never waits for it.
const generator = createRequire(import.meta.url).resolve('@repo/db/generate')

/**
 * Regenerates the Prisma client when a .prisma file under `dir` changes (and once at
 * start, for an edit made while the stack was starting), so the running api and worker,
 * which watch packages' src/, restart on a client that matches the schema. A half-written
 * schema only logs why it cannot be generated yet. Returns a stop function.
 */
export function watchSchema(dir: string, log: (message: string) => void): () => void {
  let timer: NodeJS.Timeout | undefined
  let running = false
  let again = false
  let stopped = false

  const regenerate = () => {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = true
    let output = ''
    const child = spawn(process.execPath, [generator, '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.once('close', (code) => {
      running = false
      if (code !== 0)
        log(`schema changed, but the Prisma client cannot be generated yet:\n${output.trim()}`)
      else if (output.includes('generated'))
        log(
          'schema changed: regenerated the Prisma client (api and worker restart). ' +
            'Write its migration with `pnpm db:migration:new <name>`.',
        )
      if (again) {
        again = false
        regenerate()
      }
    })
  }

  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dir, { recursive: true }, (_event, file) => {
      if (!file?.endsWith('.prisma')) return
      // Editors write in bursts (truncate, write, rename): act once it settles.
      clearTimeout(timer)
      timer = setTimeout(regenerate, 250)
    })
    regenerate()
  } catch (error) {
    log(`not watching ${dir} for schema changes: ${(error as Error).message}`)
  }
  return () => {
    stopped = true
    clearTimeout(timer)
    watcher?.close()
  }
}
