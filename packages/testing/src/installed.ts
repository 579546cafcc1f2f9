import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * A package as Node resolves it from `fromDir` (the node_modules folders up the tree),
 * read from its package.json on disk (some packages do not export it): its version, and
 * its real directory, from which its own dependencies resolve.
 */
export function installedPackage(fromDir: string, name: string): { version: string; dir: string } {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json')
    if (existsSync(manifest))
      return {
        version: JSON.parse(readFileSync(manifest, 'utf8')).version,
        dir: realpathSync(dirname(manifest)),
      }
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (looked from ${fromDir})`)
  }
}
