import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '@repo/testing/servers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  K8S_DIR,
  kubectlHint,
  parseManifests,
  requireBinary,
  runScript,
  TEST_REGISTRY,
} from './support/render.ts'

const run = promisify(execFile)
const SCRIPTS = ['deploy.sh', 'rollback.sh', 'preview.sh', 'lib.sh']
const FAKE_KUBECTL = join(import.meta.dirname, 'support/fake-kubectl.mjs')

let scratch: string
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'groundwork-k8s-scripts-'))
})
afterAll(() => rm(scratch, { recursive: true, force: true }))

it('the scripts pass shellcheck', async () => {
  const shellcheck = requireBinary('shellcheck', 'Debian: apt-get install -y shellcheck')
  const { stdout } = await run(
    shellcheck,
    SCRIPTS.map((s) => join(K8S_DIR, s)),
  )
  expect(stdout).toBe('')
})

describe('deploy.sh refuses what it cannot deploy, with a reason and nothing on stdout', () => {
  const env = { IMAGE_REGISTRY: TEST_REGISTRY }
  it.each([
    [['staging'], env, 2, /usage: infra\/k8s\/deploy.sh/],
    [['qa', 'abc123'], env, 1, /unknown environment 'qa'/],
    [['production', 'latest'], env, 1, /refusing the tag 'latest'/],
    [['production', 'a b'], env, 1, /'a b' is not an image tag/],
    [['production', '-x'], env, 2, /unknown option -x/],
    [['staging', 'abc123'], {}, 1, /IMAGE_REGISTRY is not set/],
    [['staging', 'abc123'], { IMAGE_REGISTRY: 'ghcr.io/acme:v1' }, 1, /is not a registry path/],
    [['preview', 'abc123'], env, 1, /PREVIEW_ID must be the pull request number/],
    [['preview', 'abc123'], { ...env, PREVIEW_ID: '12; rm -rf /' }, 1, /PREVIEW_ID must be/],
    [['preview', 'abc123'], { ...env, PREVIEW_ID: '042' }, 1, /PREVIEW_ID must be/],
    [['preview', 'abc123'], { ...env, PREVIEW_ID: 'pr-' }, 1, /PREVIEW_ID must be/],
    [['staging', 'abc123'], { ...env, PREVIEW_ID: '4' }, 1, /PREVIEW_ID is for the preview/],
    [
      ['preview', 'abc123'],
      { ...env, PREVIEW_ID: '4', PREVIEW_DOMAIN: 'not a domain' },
      1,
      /is not a DNS name/,
    ],
  ] as const)('%j %j', async (args, environment, code, message) => {
    const result = await runScript('deploy.sh', ['--dry-run', ...args], environment)
    expect(result.code).toBe(code)
    expect(result.stderr).toMatch(message)
    expect(result.stdout).toBe('')
  })

  it('rollback.sh and preview.sh check their arguments too', async () => {
    for (const [script, args, message] of [
      ['rollback.sh', [], /usage: infra\/k8s\/rollback.sh/],
      ['rollback.sh', ['qa'], /unknown environment 'qa'/],
      ['rollback.sh', ['preview'], /PREVIEW_ID must be the pull request number/],
      ['preview.sh', ['down'], /usage: infra\/k8s\/preview.sh/],
      ['preview.sh', ['down', 'main'], /'main' is not a pull request number/],
      ['preview.sh', ['up', '3'], /usage/],
      ['preview.sh', ['sideways', '3'], /usage/],
    ] as const) {
      const result = await runScript(script, [...args], {})
      expect(result.code, `${script} ${args}`).toBeGreaterThan(0)
      expect(result.stderr).toMatch(message)
    }
  })
})

describe('render-only mode', () => {
  it('prints the release without a cluster, the same with RENDER_ONLY=1', async () => {
    const flag = await runScript('deploy.sh', ['--dry-run', 'production', 'abc123'], {
      IMAGE_REGISTRY: TEST_REGISTRY,
    })
    const variable = await runScript('deploy.sh', ['production', 'abc123'], {
      IMAGE_REGISTRY: `${TEST_REGISTRY}/`,
      RENDER_ONLY: '1',
    })
    expect(flag.code).toBe(0)
    expect(variable.stdout).toBe(flag.stdout)
    expect(flag.stdout).toContain('image: ghcr.io/acme/groundwork-api:abc123')
    expect(parseManifests(flag.stdout).length).toBeGreaterThan(30)
  })

  it('leaves no render directory behind, rendered or failed', async () => {
    // A copy of its own: other test files render beside the repository's at the same time.
    const copy = join(scratch, 'k8s')
    await cp(K8S_DIR, copy, { recursive: true, filter: (path) => !path.includes('.render.') })
    const renders = async () => (await readdir(copy)).filter((name) => name.startsWith('.render.'))
    const env = { IMAGE_REGISTRY: TEST_REGISTRY }
    expect((await runScript('deploy.sh', ['--dry-run', 'staging', 'abc123'], env, copy)).code).toBe(
      0,
    )
    expect(await renders()).toEqual([])
    await writeFile(join(copy, 'base/api.yaml'), 'kind: [not yaml')
    const broken = await runScript('deploy.sh', ['--dry-run', 'staging', 'abc123'], env, copy)
    expect(broken.code).toBe(1)
    expect(broken.stderr).toMatch(/could not render overlays\/staging/)
    expect(broken.stdout).toBe('')
    expect(await renders()).toEqual([])
  })

  it('preview.sh up --dry-run renders the pull request, down --dry-run says what it would delete', async () => {
    const up = await runScript('preview.sh', ['--dry-run', 'up', '77', 'abc123'], {
      IMAGE_REGISTRY: TEST_REGISTRY,
    })
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout).toContain('name: groundwork-pr-77')
    const down = await runScript('preview.sh', ['--dry-run', 'down', '77'], {})
    expect(down.stdout).toMatch(/would delete namespace groundwork-pr-77/)
  })
})

describe('with a cluster that does not answer', { timeout: 60_000 }, () => {
  it('every script stops at once and says so', async () => {
    const port = await freePort()
    const kubeconfig = join(scratch, 'kubeconfig')
    await writeFile(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:${port}"}}]
contexts: [{name: gone, context: {cluster: gone, user: nobody}}]
users: [{name: nobody, user: {token: not-a-real-token}}]
current-context: gone
`,
    )
    requireBinary('kubectl', kubectlHint)
    const env = { KUBECONFIG: kubeconfig, IMAGE_REGISTRY: TEST_REGISTRY }
    for (const [script, args] of [
      ['deploy.sh', ['staging', 'abc123']],
      ['rollback.sh', ['production']],
      ['preview.sh', ['down', '5']],
      ['preview.sh', ['list']],
    ] as const) {
      const result = await runScript(script, [...args], env)
      expect(result.code, `${script} ${args}`).toBe(1)
      expect(result.stderr).toMatch(/cannot reach the cluster \(kubectl context: gone\)/)
    }
  })
})

// Each case runs whole deploys: tens of kubectl (fake) processes and a render.
describe('against a cluster (kubectl answered by a recording fake)', { timeout: 60_000 }, () => {
  interface State {
    calls: string[]
    applied: Array<{ phase: string; namespace: string; objects: string[] }>
    release?: Record<string, string>
    namespaces?: Record<string, Record<string, string>>
    migration?: 'fail'
    rolloutFail?: string
    secretsFail?: boolean
  }
  let statePath: string
  const real = () => requireBinary('kubectl', kubectlHint)
  async function withState(state: Partial<State>) {
    statePath = join(scratch, `state-${crypto.randomUUID()}.json`)
    await writeFile(statePath, JSON.stringify({ applied: [], ...state }))
  }
  const readState = async (): Promise<State> => {
    const calls = await readFile(`${statePath}.calls`, 'utf8').catch(() => '')
    return { ...JSON.parse(await readFile(statePath, 'utf8')), calls: calls.trim().split('\n') }
  }
  const script = (name: string, args: string[], env: Record<string, string> = {}) =>
    runScript(name, args, {
      KUBECTL: FAKE_KUBECTL,
      REAL_KUBECTL: real(),
      FAKE_KUBE_STATE: statePath,
      IMAGE_REGISTRY: TEST_REGISTRY,
      ...env,
    })
  const indexOf = (calls: string[], pattern: RegExp) =>
    calls.findIndex((call) => pattern.test(call))

  it('sets up, migrates, and only then rolls out, and records the release', async () => {
    await withState({})
    const result = await script('deploy.sh', ['staging', 'aaa111'])
    expect(result.code, result.stderr).toBe(0)
    const { calls, applied, release } = await readState()
    const order = [
      /^version/,
      /deploy-phase=setup/,
      /^--namespace groundwork-staging wait --for=condition=Ready .*externalsecret\/groundwork externalsecret\/groundwork-pgbouncer/,
      /rollout status deployment.apps\/pgbouncer/,
      /delete job groundwork-migrate/,
      /deploy-phase=migrate/,
      /get job groundwork-migrate/,
      /deploy-phase=rollout/,
      /rollout status deployment.apps\/api/,
      /create configmap groundwork-release/,
    ].map((pattern) => indexOf(calls, pattern))
    expect(
      order.every((index) => index >= 0),
      calls.join('\n'),
    ).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(applied.map((a) => a.phase)).toEqual(['setup', 'migrate', 'rollout'])
    expect(applied[1]?.objects).toEqual(['job.batch/groundwork-migrate'])
    expect(applied[2]?.objects).toEqual(
      expect.arrayContaining([
        'deployment.apps/api',
        'deployment.apps/web',
        'deployment.apps/worker',
      ]),
    )
    for (const app of ['api', 'web', 'worker'])
      expect(indexOf(calls, new RegExp(`rollout status deployment.apps/${app} `))).toBeGreaterThan(
        order[7] as number,
      )
    expect(release).toMatchObject({ current: 'aaa111', previous: '', registry: TEST_REGISTRY })

    // The next release remembers this one; redeploying it keeps the record as it is.
    expect((await script('deploy.sh', ['staging', 'bbb222'])).code).toBe(0)
    expect((await readState()).release).toMatchObject({ current: 'bbb222', previous: 'aaa111' })
    expect((await script('deploy.sh', ['staging', 'bbb222'])).code).toBe(0)
    expect((await readState()).release).toMatchObject({ current: 'bbb222', previous: 'aaa111' })
  })

  it('rolls nothing out when the migrations fail, and shows their log', async () => {
    await withState({ migration: 'fail', release: { current: 'aaa111', previous: '' } })
    const result = await script('deploy.sh', ['production', 'bbb222'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/column "x" already exists/)
    expect(result.stderr).toMatch(
      /migrations failed .* nothing of bbb222 was rolled out; aaa111 keeps running/,
    )
    const { applied, release } = await readState()
    expect(applied.map((a) => a.phase)).toEqual(['setup', 'migrate'])
    expect(release).toEqual({ current: 'aaa111', previous: '' })
  })

  it('stops before the migrations when the secrets do not sync', async () => {
    await withState({ secretsFail: true })
    const result = await script('deploy.sh', ['production', 'bbb222'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/secrets did not sync/)
    expect((await readState()).applied.map((a) => a.phase)).toEqual(['setup'])
  })

  it('names the way back when a rollout does not complete, and records nothing', async () => {
    await withState({
      rolloutFail: 'deployment.apps/web',
      release: { current: 'aaa111', previous: '' },
    })
    const result = await script('deploy.sh', ['production', 'bbb222'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /rollout of bbb222 did not complete; infra\/k8s\/rollback.sh production returns to aaa111/,
    )
    expect((await readState()).release).toEqual({ current: 'aaa111', previous: '' })
  })

  it('rolls back to the previous tag in one step, without migrations, and forward again', async () => {
    await withState({
      release: { current: 'bbb222', previous: 'aaa111', registry: 'registry.example.com/acme' },
    })
    const back = await script('rollback.sh', ['production'], { IMAGE_REGISTRY: '' })
    expect(back.code, back.stderr).toBe(0)
    const state = await readState()
    expect(state.applied.map((a) => a.phase)).toEqual(['setup', 'rollout'])
    expect(state.calls.some((call) => call.includes('delete job'))).toBe(false)
    expect(state.release).toMatchObject({
      current: 'aaa111',
      previous: 'bbb222',
      registry: 'registry.example.com/acme',
    })
    expect((await script('rollback.sh', ['production'])).code).toBe(0)
    expect((await readState()).release).toMatchObject({ current: 'bbb222', previous: 'aaa111' })
  })

  it('refuses a rollback with nowhere to go', async () => {
    await withState({ release: { current: 'aaa111', previous: '' } })
    const result = await script('rollback.sh', ['staging'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/no previous release to return to \(running: aaa111\)/)
    await withState({})
    expect((await script('rollback.sh', ['staging'])).stderr).toMatch(/has no release record/)
  })

  it('deploys a preview into its own namespace', async () => {
    await withState({})
    // The pipeline names a preview pr-<number>; the bare number works too.
    const result = await script('preview.sh', ['up', 'pr-9', 'ccc333'])
    expect(result.code, result.stderr).toBe(0)
    const { applied, release } = await readState()
    expect(new Set(applied.map((a) => a.namespace))).toEqual(new Set(['groundwork-pr-9']))
    expect(applied[0]?.objects).toEqual(
      expect.arrayContaining(['namespace/groundwork-pr-9', 'statefulset.apps/postgres']),
    )
    expect(release).toMatchObject({ current: 'ccc333' })
  })

  it('deletes only preview namespaces, and a missing one is already done', async () => {
    await withState({
      namespaces: {
        'groundwork-pr-5': { 'groundwork.dev/preview': 'true' },
        'groundwork-pr-6': {},
      },
    })
    const deleted = await script('preview.sh', ['down', 'pr-5'])
    expect(deleted.code, deleted.stderr).toBe(0)
    expect((await readState()).namespaces).toEqual({ 'groundwork-pr-6': {} })
    const refused = await script('preview.sh', ['down', '6'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/groundwork-pr-6 is not a preview/)
    expect((await readState()).namespaces).toEqual({ 'groundwork-pr-6': {} })
    const missing = await script('preview.sh', ['down', '7'])
    expect(missing.code).toBe(0)
    expect(missing.stderr).toMatch(/no preview for pull request 7/)
  })
})
