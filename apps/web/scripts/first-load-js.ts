// First-load JavaScript of each page of a build: what a browser downloads on a first
// visit before the page can respond (the framework and chunks every page shares, then
// the page's own), compressed as the server sends it. `next build` (16) no longer prints
// it; it records each route's files in .next/diagnostics/route-bundle-stats.json, which
// this reads. That file is Next's internals: should it move or change shape, this throws
// and says so rather than measure nothing. Used by test/js-budget.test.ts and
// `pnpm bench:web`.

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

export const BUILD_DIR = join(import.meta.dirname, '..', '.next')

export interface RouteJs {
  /** The app route, e.g. /orgs/[orgId]/projects. */
  route: string
  /** What a first visit downloads, relative to the build directory. */
  files: string[]
  bytes: number
  /** Compressed with zlib's default level, as Next's server compresses responses. */
  gzipBytes: number
  /** Of gzipBytes: the files every page loads (the framework, the root layout). */
  sharedGzipBytes: number
}

interface RouteStats {
  route: string
  firstLoadChunkPaths: string[]
}

function isRouteStats(value: unknown): value is RouteStats {
  const entry = value as RouteStats
  return (
    typeof entry?.route === 'string' &&
    Array.isArray(entry.firstLoadChunkPaths) &&
    entry.firstLoadChunkPaths.every((path) => typeof path === 'string')
  )
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'))

/**
 * The build's pages. /_global-error is left out: it replaces the root layout only when
 * that fails, so no visit starts there.
 */
function pagesOf(buildDir: string): string[] {
  const manifest = readJson(join(buildDir, 'app-path-routes-manifest.json'))
  return Object.entries(manifest as Record<string, string>)
    .filter(([entry, route]) => entry.endsWith('/page') && route !== '/_global-error')
    .map(([, route]) => route)
}

/** Every page's first-load JavaScript, largest first. */
export function firstLoadJs(buildDir = BUILD_DIR): RouteJs[] {
  if (!existsSync(join(buildDir, 'BUILD_ID')))
    throw new Error(`No production build at ${buildDir}: run \`pnpm build\` first.`)
  const statsFile = join(buildDir, 'diagnostics', 'route-bundle-stats.json')
  const stats = existsSync(statsFile) ? readJson(statsFile) : undefined
  if (!Array.isArray(stats) || !stats.every(isRouteStats))
    throw new Error(
      `${statsFile} is missing or has changed shape: find where this Next.js records each ` +
        "route's first-load files and update scripts/first-load-js.ts",
    )
  const unlisted = pagesOf(buildDir).filter((page) => !stats.some((s) => s.route === page))
  if (unlisted.length > 0) throw new Error(`${statsFile} lists no files for ${unlisted.join(', ')}`)

  const sizes = new Map<string, { bytes: number; gzipBytes: number }>()
  const sizeOf = (file: string) => {
    let size = sizes.get(file)
    if (!size) {
      const content = readFileSync(join(buildDir, file))
      size = { bytes: content.length, gzipBytes: gzipSync(content).length }
      sizes.set(file, size)
    }
    return size
  }
  // Paths start with the build directory's name (.next/static/...).
  const routes = stats.map((s) => ({
    route: s.route,
    files: [...new Set(s.firstLoadChunkPaths.map((path) => path.replace(/^[^/]+\//, '')))],
  }))
  const shared = routes
    .map((r) => r.files)
    .reduce((common, files) => common.filter((file) => files.includes(file)))
  const total = (files: string[], key: 'bytes' | 'gzipBytes') =>
    files.reduce((sum, file) => sum + sizeOf(file)[key], 0)
  return routes
    .map(({ route, files }) => ({
      route,
      files,
      bytes: total(files, 'bytes'),
      gzipBytes: total(files, 'gzipBytes'),
      sharedGzipBytes: total(shared, 'gzipBytes'),
    }))
    .sort((a, b) => b.gzipBytes - a.gzipBytes || a.route.localeCompare(b.route))
}

export const kB = (bytes: number) => (bytes / 1000).toFixed(1)

/** A Markdown table, numbers right-aligned: what the bench prints and a failure shows. */
export function markdownTable(header: string[], rows: string[][], numeric: boolean[]): string {
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((r) => r[i]?.length ?? 0)),
  )
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join(' | ')} |`
  const rule = `| ${widths.map((width, i) => (numeric[i] ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))).join(' | ')} |`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

/** The per-page table: files, raw and compressed size, and how much is the shared part. */
export function firstLoadTable(routes: RouteJs[]): string {
  return markdownTable(
    ['route', 'files', 'raw kB', 'gzip kB', 'shared gzip kB', 'own gzip kB'],
    routes.map((r) => [
      r.route,
      String(r.files.length),
      kB(r.bytes),
      kB(r.gzipBytes),
      kB(r.sharedGzipBytes),
      kB(r.gzipBytes - r.sharedGzipBytes),
    ]),
    [false, true, true, true, true, true],
  )
}
