import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { parseAllDocuments } from 'yaml'

const run = promisify(execFile)

export const K8S_DIR = resolve(import.meta.dirname, '../..')
export const ENVIRONMENTS = ['staging', 'production', 'preview'] as const
export type Environment = (typeof ENVIRONMENTS)[number]

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked field by field at run time
export type Loose = any

/** A rendered Kubernetes object: only what every check reads is typed. */
export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: {
    name: string
    namespace?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
  }
  spec?: Loose
  data?: Loose
  stringData?: Loose
}

/**
 * The full path of a binary the tests need, from PATH. Missing, the test fails with what
 * to install: CI must have it (.ci/provision), and a developer learns how to get it.
 */
export function requireBinary(name: string, install: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error(`${name} is not installed (${install})`)
}

export const kubectlHint = 'kubectl 1.30 or later, with its built-in kustomize'

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(document.errors.join('\n'))
      return document.toJS() as K8sObject | null
    })
    .filter((object): object is K8sObject => object !== null)
}

/** `kubectl kustomize <dir>`, parsed. */
export async function kustomize(dir: string): Promise<K8sObject[]> {
  const kubectl = requireBinary('kubectl', kubectlHint)
  const { stdout } = await run(kubectl, ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 })
  return parseManifests(stdout)
}

export interface ScriptResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs one of the deploy scripts; never throws on a non-zero exit. */
export async function runScript(
  script: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  dir = K8S_DIR,
): Promise<ScriptResult> {
  requireBinary('kubectl', kubectlHint)
  try {
    const { stdout, stderr } = await run(join(dir, script), args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 60_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    if (typeof failed.code !== 'number') throw error
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

export const TEST_REGISTRY = 'ghcr.io/acme'
export const TEST_TAG = '3f2c1a9e0b7d'

const renders = new Map<string, Promise<K8sObject[]>>()

/**
 * What the pipeline deploys, without a cluster: deploy.sh --dry-run, parsed. Renders of
 * the repository's own files are made once per test file; each caller gets its own copy.
 */
export async function renderRelease(
  environment: Environment,
  { tag = TEST_TAG, previewId = '42', dir = K8S_DIR } = {},
): Promise<K8sObject[]> {
  const render = async () => {
    const result = await runScript(
      'deploy.sh',
      ['--dry-run', environment, tag],
      {
        IMAGE_REGISTRY: TEST_REGISTRY,
        ...(environment === 'preview' ? { PREVIEW_ID: previewId } : {}),
      },
      dir,
    )
    if (result.code !== 0)
      throw new Error(`deploy.sh --dry-run ${environment} failed:\n${result.stderr}`)
    return parseManifests(result.stdout)
  }
  if (dir !== K8S_DIR) return render()
  const key = `${environment} ${tag} ${previewId}`
  let cached = renders.get(key)
  if (!cached) {
    cached = render()
    renders.set(key, cached)
  }
  return structuredClone(await cached)
}

/**
 * deploy.sh's render of an environment with components/tracing enabled as README
 * "Traces" says (the component added to the overlay's components), from a copy of
 * infra/k8s: no overlay includes it by default.
 */
export async function renderWithTracing(environment: 'staging' | 'production') {
  const copy = await mkdtemp(join(tmpdir(), 'groundwork-k8s-tracing-'))
  try {
    await cp(K8S_DIR, copy, { recursive: true, filter: (path) => !path.includes('.render.') })
    const file = join(copy, 'overlays', environment, 'kustomization.yaml')
    const kustomization = await readFile(file, 'utf8')
    const line = '  - ../../components/monitoring\n'
    if (!kustomization.includes(line)) throw new Error(`${file} no longer contains ${line}`)
    await writeFile(file, kustomization.replace(line, `${line}  - ../../components/tracing\n`))
    return await renderRelease(environment, { dir: copy })
  } finally {
    await rm(copy, { recursive: true, force: true })
  }
}
