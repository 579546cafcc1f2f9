// `pnpm dev` starts here. Plain JavaScript on purpose: it runs on any Node, so it can say
// which Node is needed before Node is asked to load TypeScript, and it generates what must
// be generated (the Prisma client) before anything imports it. Then the orchestrator.
import { readFileSync } from 'node:fs'
import { ensurePrismaClient } from '../../packages/db/scripts/prisma-generate.mjs'

const fail = (message) => {
  console.error(`\x1b[31m✖\x1b[0m ${message}`)
  process.exit(1)
}

// .nvmrc names the major the project runs on (nvm, fnm, volta and CI read it too).
const required = Number(readFileSync(new URL('../../.nvmrc', import.meta.url), 'utf8').trim())
const running = Number(process.versions.node.split('.')[0])
if (running < required)
  fail(
    `pnpm dev needs Node.js ${required} or newer, and this is Node ${process.version} (${process.execPath}): ` +
      `install Node ${required} (\`nvm install\` reads .nvmrc), then run pnpm dev again.`,
  )

try {
  if (ensurePrismaClient({ quiet: true }) === 'generated')
    console.log('\x1b[36m[dev]\x1b[0m generated the Prisma client (packages/db/src/generated)')
} catch (error) {
  fail(error instanceof Error ? error.message : String(error))
}

await import('./main.ts')
