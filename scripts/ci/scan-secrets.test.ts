import { execFile } from 'node:child_process'
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The secret scan CI runs (`pnpm scan:secrets`: secretlint with .secretlintrc.yaml over every
// file git would commit). Secrets are made here, at random, and planted in a scratch
// repository that has the repository's own scan configuration and .gitignore: real-looking
// ones must fail the scan; the same ones where git ignores files, and the development
// credentials the configuration allows, must not. Nothing secret is ever written into the
// source tree.
const repoRoot = resolve(import.meta.dirname, '../..')
const secretlint = join(repoRoot, 'node_modules/secretlint/bin/secretlint.js')
const SCAN = 'secretlint "**/*"'

function run(command: string, args: string[], cwd: string) {
  return new Promise<{ code: number; output: string }>((done) =>
    execFile(
      command,
      args,
      { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    ),
  )
}

const pick = (alphabet: string, length: number) =>
  Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('')
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const ALNUM = `${UPPER}${UPPER.toLowerCase()}0123456789`

// Made fresh each run, so no fixture holds a secret and no allow list can know them.
const secrets = {
  // 40 characters of the key's alphabet, the last a letter or digit: secretlint's pattern
  // ends in a word boundary, so a key ending in / or + (1 in 32 of random ones) went
  // unreported and the test failed by chance.
  awsSecretKey: `${randomBytes(30).toString('base64').slice(0, 39)}${pick(ALNUM, 1)}`,
  awsKeyId: `AKIA${pick(`${UPPER}234567`, 16)}`,
  // RSA: secretlint's private-key rule did not report a (shorter) P-256 key in SEC1 PEM.
  privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString(),
  githubToken: `ghp_${pick(ALNUM, 36)}`,
  databaseUrl: `postgresql://app_admin:${pick(ALNUM, 20)}@db.prod.example.com:5432/app`,
}

const planted: Record<string, string> = {
  '.env.production': `AWS_ACCESS_KEY_ID=${secrets.awsKeyId}\nAWS_SECRET_ACCESS_KEY=${secrets.awsSecretKey}\n`,
  'infra/k8s/tls.key': secrets.privateKey,
  '.github/workflows/release.yml': `env:\n  GH_TOKEN: ${secrets.githubToken}\n`,
  'apps/api/src/settings.ts': `export const databaseUrl = '${secrets.databaseUrl}'\n`,
}

let root = ''
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'scan-secrets-'))
  for (const file of ['.secretlintrc.yaml', '.gitignore'])
    cpSync(join(repoRoot, file), join(root, file))
  // The rules come from the repository's install; git ignores node_modules, so the scan
  // does not read it.
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

function plant(files: Record<string, string>) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), content)
  }
  return () => {
    for (const path of Object.keys(files)) rmSync(join(root, path), { force: true })
  }
}

const scan = () => run(process.execPath, [secretlint, '**/*', '--format=unix'], root)

describe('secret scan', () => {
  it('is the root script CI runs', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
    expect(pkg.scripts['scan:secrets']).toBe(SCAN)
  })

  it('fails on a planted AWS key pair, private key, GitHub token and database password, naming each file without printing the secret', async () => {
    const remove = plant(planted)
    try {
      const { code, output } = await scan()
      expect(code, output).toBe(1)
      const found = [...output.matchAll(/^\S*?scan-secrets-\w+\/(\S+):\d+:\d+: \[(\w+)\]/gm)]
        .map(([, file, rule]) => `${file} ${rule}`)
        .sort()
      expect(found, output).toEqual([
        '.env.production AWSSecretAccessKey',
        '.github/workflows/release.yml GITHUB_TOKEN',
        'apps/api/src/settings.ts PostgreSQLConnection',
        'infra/k8s/tls.key PrivateKey',
      ])
      for (const value of [secrets.awsSecretKey, secrets.githubToken, secrets.databaseUrl])
        expect(output).not.toContain(value)
    } finally {
      remove()
    }
  })

  it('passes the same secrets where git ignores files, and the development databases it allows', async () => {
    const remove = plant({
      'apps/web/.next/server/chunk.js': `const t = '${secrets.githubToken}'\n`,
      'packages/db/src/generated/client.ts': `const k = '${secrets.awsSecretKey}'\n`,
      '.env': `AWS_SECRET_ACCESS_KEY=${secrets.awsSecretKey}\n`,
      'apps/api/test/local.test.ts': [
        `const dev = 'postgresql://groundwork:groundwork@127.0.0.1:5432/groundwork'`,
        `const test = 'postgresql://nobody:nothing@127.0.0.1:9/none'`,
        `const published = 'postgresql://groundwork_worker_login:groundwork@db.internal/app'`,
      ].join('\n'),
    })
    try {
      const { code, output } = await scan()
      expect(code, output).toBe(0)
    } finally {
      remove()
    }
  })

  it('still fails on a password for a database elsewhere that resembles the allowed ones', async () => {
    for (const url of [
      `postgresql://groundwork:${pick(ALNUM, 16)}@db.prod.example.com/app`,
      `postgresql://app:${pick(ALNUM, 16)}@127.0.0.1.attacker.example/app`,
      // The allowed placeholder password, but for another host (joined here, so this file
      // holds no connection string itself).
      ['postgresql://app:s3cret', 'db.prod.example.com/app'].join('@'),
    ]) {
      const remove = plant({ 'apps/api/src/settings.ts': `export const url = '${url}'\n` })
      try {
        const { code, output } = await scan()
        expect(code, `${url}\n${output}`).toBe(1)
      } finally {
        remove()
      }
    }
  })

  it('passes on the repository as committed', async () => {
    const { code, output } = await run('pnpm', ['--silent', 'scan:secrets'], repoRoot)
    expect(code, output).toBe(0)
  })
})
