// Loads the Terraform tree as JSON with Terraform's own HCL parser (compiled to wasm in
// @cdktf/hcl2json), so the checks in checks.ts read the code the way Terraform does.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parse } from '@cdktf/hcl2json'

// biome-ignore lint/suspicious/noExplicitAny: parsed HCL is untyped JSON by nature
export type Hcl = any
type Blocks = Record<string, Hcl>

/** One directory of .tf files, merged the way Terraform merges them. */
export interface TfModule {
  /** Directory relative to the tree's root ('' for the root module). */
  dir: string
  variables: Blocks
  outputs: Blocks
  locals: Blocks
  modules: Blocks
  /** `${type}.${name}` of resources and `data.${type}.${name}` of data sources. */
  resources: Blocks
  terraform: Hcl[]
  providers: Blocks
}

export interface TfTree {
  root: string
  modules: Map<string, TfModule>
  /** environments/<env>/terraform.tfvars, by environment. */
  tfvars: Map<string, Blocks>
  /** environments/<env>/backend.hcl, by environment. */
  backends: Map<string, Blocks>
}

/** Parses one HCL file; a syntax error names the file and the line. */
export async function parseHcl(path: string): Promise<Hcl> {
  try {
    return await parse(path, readFileSync(path, 'utf8'))
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`)
  }
}

function directories(root: string): string[] {
  const found = [root]
  for (const entry of readdirSync(root)) {
    const path = join(root, entry)
    if (!entry.startsWith('.') && entry !== 'node_modules' && statSync(path).isDirectory())
      found.push(...directories(path))
  }
  return found
}

/** Each HCL block kind holds a list of bodies per label; modules never repeat a label. */
const first = (bodies: Hcl) => (Array.isArray(bodies) ? bodies[0] : bodies)

async function loadModule(root: string, dir: string, files: string[]): Promise<TfModule> {
  const module: TfModule = {
    dir: relative(root, dir),
    variables: {},
    outputs: {},
    locals: {},
    modules: {},
    resources: {},
    terraform: [],
    providers: {},
  }
  for (const file of files) {
    const hcl = await parseHcl(join(dir, file))
    for (const [name, bodies] of Object.entries<Hcl>(hcl.variable ?? {}))
      module.variables[name] = first(bodies)
    for (const [name, bodies] of Object.entries<Hcl>(hcl.output ?? {}))
      module.outputs[name] = first(bodies)
    for (const [name, bodies] of Object.entries<Hcl>(hcl.module ?? {}))
      module.modules[name] = first(bodies)
    for (const [name, bodies] of Object.entries<Hcl>(hcl.provider ?? {}))
      module.providers[name] = first(bodies)
    for (const locals of hcl.locals ?? []) Object.assign(module.locals, locals)
    for (const [type, byName] of Object.entries<Blocks>(hcl.resource ?? {}))
      for (const [name, bodies] of Object.entries(byName))
        module.resources[`${type}.${name}`] = first(bodies)
    for (const [type, byName] of Object.entries<Blocks>(hcl.data ?? {}))
      for (const [name, bodies] of Object.entries(byName))
        module.resources[`data.${type}.${name}`] = first(bodies)
    module.terraform.push(...(hcl.terraform ?? []))
  }
  return module
}

/** Every module under `root` (directories holding .tf files), the tfvars and backends. */
export async function loadTree(root: string): Promise<TfTree> {
  const tree: TfTree = { root, modules: new Map(), tfvars: new Map(), backends: new Map() }
  for (const dir of directories(root)) {
    const files = readdirSync(dir)
    const tf = files.filter((file) => file.endsWith('.tf')).sort()
    if (tf.length > 0) {
      const module = await loadModule(root, dir, tf)
      tree.modules.set(module.dir, module)
    }
    const env = relative(join(root, 'environments'), dir)
    if (!env.startsWith('..') && env !== '' && !env.includes('/')) {
      if (files.includes('terraform.tfvars'))
        tree.tfvars.set(env, await parseHcl(join(dir, 'terraform.tfvars')))
      if (files.includes('backend.hcl'))
        tree.backends.set(env, await parseHcl(join(dir, 'backend.hcl')))
    }
  }
  return tree
}

/** Every string in a parsed value, with the path to it (for messages). */
export function* strings(value: Hcl, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value]
  else if (Array.isArray(value))
    for (const [index, item] of value.entries()) yield* strings(item, `${path}[${index}]`)
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value))
      yield* strings(item, path ? `${path}.${key}` : key)
}

/**
 * The references of a parsed value: var.x, local.x, module.x.y, data.t.n and t.n of
 * resources. Read from the expression text, for-expressions and templates included
 * (hcl2json's own reference finder skips the bodies of for-expressions).
 */
export function references(value: Hcl): string[] {
  const found = new Set<string>()
  for (const [, text] of strings(value)) {
    if (!text.includes('${')) continue
    for (const match of text.matchAll(
      /(?<![\w.-])(var\.\w+|local\.\w+|module\.\w+(?:\.\w+)?|data\.\w+\.\w+|(?:aws|random)_\w+\.\w+)/g,
    ))
      found.add(match[1] as string)
  }
  return [...found]
}
