// `next build` with output: 'standalone' leaves static assets and public/ out of the
// self-contained server directory; copy them in so .next/standalone runs as it is
// (node apps/web/server.js), in the container image and in tests alike.
import { cpSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const app = join(import.meta.dirname, '..')
const target = join(app, '.next', 'standalone', 'apps', 'web')
if (!existsSync(target)) throw new Error(`no standalone build at ${target}; run next build first`)
cpSync(join(app, '.next', 'static'), join(target, '.next', 'static'), { recursive: true })
if (existsSync(join(app, 'public')))
  cpSync(join(app, 'public'), join(target, 'public'), { recursive: true })
