import { type FSWatcher, watch } from 'node:fs'
import { ensurePrismaClient } from '../../packages/db/scripts/prisma-generate.mjs'

/**
 * Regenerates the Prisma client when a .prisma file under `dir` changes, so the running
 * api and worker (which watch packages' src/) restart on a client that matches the schema.
 * A half-written schema only logs why it cannot be generated yet. Returns a stop function.
 */
export function watchSchema(dir: string, log: (message: string) => void): () => void {
  let timer: NodeJS.Timeout | undefined
  const regenerate = () => {
    try {
      if (ensurePrismaClient({ quiet: true }) === 'generated')
        log(
          'schema changed: regenerated the Prisma client (api and worker restart). ' +
            'Write its migration with `pnpm db:migration:new <name>`.',
        )
    } catch (error) {
      log(
        `schema changed, but the Prisma client cannot be generated yet:\n${(error as Error).message}`,
      )
    }
  }
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dir, { recursive: true }, (_event, file) => {
      if (!file?.endsWith('.prisma')) return
      // Editors write in bursts (truncate, write, rename): act once it settles.
      clearTimeout(timer)
      timer = setTimeout(regenerate, 250)
    })
  } catch (error) {
    log(`not watching ${dir} for schema changes: ${(error as Error).message}`)
  }
  return () => {
    clearTimeout(timer)
    watcher?.close()
  }
}
