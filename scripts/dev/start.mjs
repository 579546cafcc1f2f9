// `pnpm dev` starts here. Plain JavaScript on purpose: it runs on any Node, so it can say
// which Node is needed before Node is asked to load TypeScript, and it generates what must
// be generated (the Prisma client) before anything imports it. Then the orchestrator.
import { readFileSync } from 'node:fs'
import { ensurePrismaClient } from '@repo/db/generate'
import { fail, log } from './say.mjs'

/** @param {string} message */
const stop = (message) => {
  fail(message)
  process.exit(1)
}

// .nvmrc names the major the project runs on (nvm, fnm, volta and CI read it too).
const nvmrc = readFileSync(new URL('../../.nvmrc', import.meta.url), 'utf8').trim()
const required = Number.parseInt(nvmrc.replace(/^v/, ''), 10)
if (!Number.isInteger(required))
  stop(`.nvmrc must name a Node.js major version like 24, not "${nvmrc}".`)
const running = Number.parseInt(process.versions.node, 10)
if (running < required)
  stop(
    `pnpm dev needs Node.js ${required} or newer, and this is Node ${process.version} (${process.execPath}): ` +
      `install Node ${required} (\`nvm install\` reads .nvmrc), then run pnpm dev again.`,
  )
// The dev stack seeds an account whose password is in the README.
if (process.env.NODE_ENV === 'production')
  stop('pnpm dev runs the development stack and refuses NODE_ENV=production: unset NODE_ENV.')

try {
  if (ensurePrismaClient({ quiet: true }) === 'generated')
    log('generated the Prisma client (packages/db/src/generated)')
} catch (error) {
  stop(error instanceof Error ? error.message : String(error))
}

await import('./main.ts')
