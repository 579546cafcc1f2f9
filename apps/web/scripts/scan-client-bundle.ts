// The web app's promise that no server-side value reaches a browser, checked on a build:
// every file a browser can download (assets, public/, pages prerendered at build time) is
// searched for what a server module, pulled into a client component, would carry with it.
// ADR 021 says what each check proves and why the sentinel build is not in every run.
//
//   node apps/web/scripts/scan-client-bundle.ts          scans apps/web/.next (`pnpm build`)
//   node apps/web/scripts/scan-client-bundle.ts --build  builds again with a sentinel in every
//                                                        server variable, scans it, removes it
//
// Prints each find and exits 1 when there is any.

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { apiEnvSchema } from '@repo/api/env'
import { devDefaults, secretsKey } from '@repo/config'
import { startReaper } from '@repo/testing/servers'
import { workerEnvSchema } from '@repo/worker/env'
import type { z } from 'zod'
import { webEnvSchema } from '../lib/env.ts'

export const APP_DIR = join(import.meta.dirname, '..')
export const BUILD_DIR = join(APP_DIR, '.next')
/** --build's build, beside the real one: a test run's web server may be serving .next. */
const SCAN_DIST_DIR = '.next-bundle-scan'

export interface Needle {
  /** What it is, for the report: never the value itself. */
  what: string
  text: string
  /** Matched as a whole identifier (a variable's name), not inside a longer one. */
  word?: boolean
}

export interface Find {
  file: string
  what: string
  excerpt: string
}

const SERVER_SCHEMAS = [apiEnvSchema, workerEnvSchema, webEnvSchema]

function fieldsOf(key: string): z.ZodType[] {
  return SERVER_SCHEMAS.flatMap((schema) => {
    const field = (schema.shape as Record<string, z.ZodType>)[key]
    return field ? [field] : []
  })
}

/** Every variable the API, the worker or the web server reads: none is for browsers. */
export function serverEnvKeys(): string[] {
  const keys = new Set(SERVER_SCHEMAS.flatMap((schema) => Object.keys(schema.shape)))
  return [...keys].filter((key) => !key.startsWith('NEXT_PUBLIC_')).sort()
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** A URL with a password, or one naming this machine: nothing a browser needs to know. */
function isPrivateUrl(value: string): boolean {
  if (!URL.canParse(value)) return false
  const url = new URL(value)
  return url.password !== '' || LOOPBACK.has(url.hostname)
}

/**
 * The values this repository publishes for server variables: the development database
 * and Redis URLs, the defaults that point at this machine (the API's internal URL, the
 * SMTP sink) and the development secrets key. `pnpm build` runs with no server variable
 * set (turbo passes none), so these are the values a server module would bring along.
 * Public defaults (the OAuth providers' and PostHog's endpoints) are left out: browsers
 * may know them, and PostHog's is the browser client's own.
 */
export function publishedNeedles(): Needle[] {
  const needles: Needle[] = Object.entries(devDefaults).map(([key, text]) => ({
    what: `${key}'s development default`,
    text,
  }))
  for (const key of serverEnvKeys())
    for (const field of fieldsOf(key)) {
      const parsed = field.safeParse(undefined)
      if (parsed.success && typeof parsed.data === 'string' && isPrivateUrl(parsed.data))
        needles.push({ what: `${key}'s default`, text: parsed.data })
    }
  const developmentKey = secretsKey({ NODE_ENV: 'development' })
  needles.push(
    { what: 'the development secrets key', text: developmentKey.toString('utf8') },
    { what: 'the development secrets key (base64)', text: developmentKey.toString('base64') },
  )
  return needles.filter((needle, i) => needles.findIndex((n) => n.text === needle.text) === i)
}

/**
 * Names that libraries in the bundle read on their own: React and Next branch on
 * NODE_ENV, and the Sentry SDK falls back to process.env.SENTRY_ENVIRONMENT, which is
 * empty in a browser (`--build` proves no value is filled in). Any other server variable's
 * name in a client file means its schema was bundled or client code reads it.
 */
const NAMES_LIBRARIES_READ = new Set(['NODE_ENV', 'SENTRY_ENVIRONMENT'])

export function nameNeedles(): Needle[] {
  return serverEnvKeys()
    .filter((key) => !NAMES_LIBRARIES_READ.has(key))
    .map((key) => ({ what: `the server variable name ${key}`, text: key, word: true }))
}

/**
 * Server variables whose values the client bundle carries on purpose. GIT_COMMIT: the
 * Sentry build plugin writes it into the browser SDK as the release (turbo passes it to
 * the build for that), so browser errors name their build; the API's probes publish it.
 */
const VALUES_MEANT_FOR_BROWSERS = new Set(['GIT_COMMIT'])

/** 32 random bytes in base64 without + or /, so no escaping changes how it reads. */
function plainBase64Key(): string {
  for (;;) {
    const key = randomBytes(32).toString('base64')
    if (/^[A-Za-z0-9]+=$/.test(key)) return key
  }
}

/**
 * A value for every server variable that can hold a distinctive one: the first shape all
 * its schemas accept (a string, a URL, a database, Redis or SMTP URL, a base64 key), each
 * carrying a random token that reads the same in any escaping; the token is what is
 * searched for. Numbers, flags and enums get none: nothing secret, nothing distinctive.
 */
export function sentinelEnv(): { env: Record<string, string>; needles: Needle[] } {
  const env: Record<string, string> = {}
  const needles: Needle[] = []
  for (const key of serverEnvKeys()) {
    const token = `sentinel${randomBytes(8).toString('hex')}`
    const base64Key = plainBase64Key()
    const shapes: Array<[value: string, token: string]> = [
      [`SENTINEL_${key}_${token}`, token],
      [`https://${token}.invalid/`, token],
      [`postgresql://sentinel:${token}@${token}.invalid:5432/sentinel`, token],
      [`redis://sentinel:${token}@${token}.invalid:6379`, token],
      [`smtps://sentinel:${token}@${token}.invalid:465`, token],
      [base64Key, base64Key.slice(0, -1)],
    ]
    const fields = fieldsOf(key)
    const fit = shapes.find(([value]) => fields.every((field) => field.safeParse(value).success))
    if (!fit) continue
    env[key] = fit[0]
    if (!VALUES_MEANT_FOR_BROWSERS.has(key))
      needles.push({ what: `the value of ${key}`, text: fit[1] })
  }
  return { env, needles }
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

/** What is served as it was written at build time: prerendered pages and route bodies. */
const PRERENDERED = /\.(html|rsc|body|meta)$/

/** Every file of a build a browser can download: assets, public/, prerendered output. */
export function clientFiles(buildDir: string): string[] {
  return [
    ...filesUnder(join(buildDir, 'static')),
    ...filesUnder(join(APP_DIR, 'public')),
    ...filesUnder(join(buildDir, 'server')).filter((file) => PRERENDERED.test(file)),
  ]
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Each needle found in each file, with a little of what surrounds it. */
export function scan(files: string[], needles: Needle[]): Find[] {
  const patterns = needles.map((needle) => ({
    what: needle.what,
    pattern: new RegExp(
      needle.word ? `(?<![\\w$])${escapeRegExp(needle.text)}(?![\\w$])` : escapeRegExp(needle.text),
    ),
  }))
  const finds: Find[] = []
  for (const file of files) {
    // latin1: every byte one character, so ASCII needles match in binary files too.
    const text = readFileSync(file, 'latin1')
    for (const { what, pattern } of patterns) {
      const match = pattern.exec(text)
      if (!match) continue
      const excerpt = text
        .slice(Math.max(0, match.index - 60), match.index + match[0].length + 60)
        .replace(/\s+/g, ' ')
      finds.push({ file: relative(APP_DIR, file), what, excerpt })
    }
  }
  return finds
}

export function describeFinds(finds: Find[]): string {
  return finds.map((find) => `${find.file}: ${find.what}\n    ...${find.excerpt}...`).join('\n')
}

/** The published values and server names in a build's client files. */
export function scanBuild(buildDir = BUILD_DIR, more: Needle[] = []) {
  if (!existsSync(join(buildDir, 'static')))
    throw new Error(`No production build at ${buildDir}: run \`pnpm build\` first.`)
  const files = clientFiles(buildDir)
  return { files, finds: scan(files, [...publishedNeedles(), ...nameNeedles(), ...more]) }
}

/** What `next build` may see of this environment: like turbo's, no server variable. */
function buildEnv(sentinels: Record<string, string>): NodeJS.ProcessEnv {
  const passed = Object.entries(process.env).filter(
    ([key]) => ['PATH', 'HOME', 'TMPDIR', 'CI'].includes(key) || key.startsWith('NEXT_PUBLIC_'),
  )
  return {
    ...Object.fromEntries(passed as Array<[string, string]>),
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    GROUNDWORK_WEB_DIST_DIR: SCAN_DIST_DIR,
    ...sentinels,
  }
}

/**
 * Builds the app again with a sentinel in every server variable that takes one, scans
 * what a browser could download of that build, and removes it. As slow as `pnpm build`.
 */
export async function scanSentinelBuild() {
  const { env, needles } = sentinelEnv()
  const distDir = join(APP_DIR, SCAN_DIST_DIR)
  const nextEnvFile = join(APP_DIR, 'next-env.d.ts')
  // next build points next-env.d.ts at its own distDir's types; typecheck wants .next's.
  const nextEnv = existsSync(nextEnvFile) ? readFileSync(nextEnvFile, 'utf8') : undefined
  const nextBin = createRequire(join(APP_DIR, 'package.json')).resolve('next/dist/bin/next')
  const started = performance.now()
  // Its own process group, which a watchdog ends (and whose build it deletes) should this
  // process die first.
  const child = spawn(process.execPath, [nextBin, 'build'], {
    cwd: APP_DIR,
    env: buildEnv(env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (child.pid === undefined) throw new Error('could not start next build')
  const reaper = startReaper({ pid: -child.pid, signal: 'SIGTERM', paths: [distDir] })
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  try {
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    if (code !== 0) throw new Error(`the sentinel build failed (exit ${code}):\n${output}`)
    const buildSeconds = (performance.now() - started) / 1000
    return { ...scanBuild(distDir, needles), sentinels: needles.length, buildSeconds }
  } finally {
    rmSync(distDir, { recursive: true, force: true })
    if (nextEnv !== undefined) writeFileSync(nextEnvFile, nextEnv)
    reaper.dismiss()
  }
}

if (import.meta.main) {
  let result: ReturnType<typeof scanBuild>
  if (process.argv.includes('--build')) {
    const { sentinels, buildSeconds, ...scanned } = await scanSentinelBuild()
    console.log(`sentinel build: ${sentinels} values, ${buildSeconds.toFixed(0)} s`)
    result = scanned
  } else result = scanBuild()
  console.log(`${result.files.length} client files scanned`)
  if (result.finds.length > 0) {
    console.error(`Server-side values in client files:\n${describeFinds(result.finds)}`)
    process.exitCode = 1
  }
}
