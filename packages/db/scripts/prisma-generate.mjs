// `prisma generate` without the native schema engine. Generating the client never runs the
// schema engine, but the CLI insists on finding (or downloading) its binary first. Where no
// engine is configured we point PRISMA_SCHEMA_ENGINE_BINARY at an existing file so the
// check passes offline; a configured engine is left alone.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cli = require.resolve('prisma/build/index.js')
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' }
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath

const result = spawnSync(process.execPath, [cli, 'generate', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
})
process.exit(result.status ?? 1)
