// The api's and worker's `dev` script: `node --watch` that watches directories, not only
// the files already loaded, so a new file (a route the autoloader picks up, a handler) or
// a regenerated Prisma client restarts the app as an edit does. It watches the app's own
// source folder and every workspace package's src/. Usage:
// node watch.ts [--import <file>]... <entry.ts> [args] (the --import files, e.g. the
// tracing start-up, load before the entry on every restart, as they do in production).
//
// It replaces itself with that node process (process.execve), so the app keeps its pid and
// receives signals exactly as if it had been started directly.
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const argv = process.argv.slice(2)
const preloads: string[] = []
while (argv[0] === '--import' && argv[1]) preloads.push('--import', ...argv.splice(0, 2).slice(1))
const [entry, ...args] = argv
if (!entry || entry.startsWith('-')) {
  console.error('usage: node scripts/dev/watch.ts [--import <file>]... <entry.ts> [args...]')
  process.exit(64)
}
const packagesDir = resolve(import.meta.dirname, '../../packages')
const watched = [
  resolve(dirname(entry)),
  ...readdirSync(packagesDir)
    .map((name) => join(packagesDir, name, 'src'))
    .filter((dir) => existsSync(dir)),
]
// process.execve is Node 23.11+ (start.mjs and .nvmrc ask for 24).
if (!process.execve) {
  console.error(`watch.ts needs Node 24 or newer (this is ${process.version})`)
  process.exit(1)
}
process.execve(
  process.execPath,
  [process.execPath, ...watched.map((dir) => `--watch-path=${dir}`), ...preloads, entry, ...args],
  process.env,
)
