#!/usr/bin/env node
// A stand-in for kubectl talking to a cluster, for the deploy scripts' tests (no cluster
// runs on a build machine). Rendering (`kustomize`) and offline commands (`create
// --dry-run=client`) go to the real kubectl; everything that would reach the API server
// is answered from a JSON state file and recorded there, in order:
//   FAKE_KUBE_STATE  the state file: { release, namespaces, applied, ... }; every call is
//                    appended to FAKE_KUBE_STATE.calls (a pipeline runs two at once)
//   REAL_KUBECTL     the real kubectl
import { spawnSync } from 'node:child_process'
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'

const statePath = process.env.FAKE_KUBE_STATE
const args = process.argv.slice(2)
const state = JSON.parse(readFileSync(statePath, 'utf8'))
state.applied ??= []
let changed = false
const change = () => {
  changed = true
}
const record = (call) => appendFileSync(`${statePath}.calls`, `${call}\n`)
const exit = (code, out = '', err = '') => {
  if (out) process.stdout.write(out)
  if (err) process.stderr.write(err)
  if (changed) writeFileSync(statePath, JSON.stringify(state, null, 2))
  process.exit(code)
}

/** The value of --flag value or --flag=value. */
function option(name) {
  for (const [i, arg] of args.entries()) {
    if (arg === name) return args[i + 1]
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1)
  }
  return undefined
}
const positional = args.filter(
  (arg, i) =>
    !arg.startsWith('-') &&
    !args[i - 1]?.match(
      /^--(namespace|filename|selector|output|timeout|for|field-manager|tail|request-timeout)$/,
    ),
)
const verb = positional[0]
const namespace = option('--namespace')

if (verb === 'kustomize' || (verb === 'create' && args.includes('--dry-run=client'))) {
  const real = spawnSync(process.env.REAL_KUBECTL, args, { encoding: 'utf8', maxBuffer: 64 << 20 })
  if (verb !== 'kustomize') record(args.join(' '))
  exit(real.status ?? 1, real.stdout, real.stderr)
}
record(args.join(' '))

const objectName = (o) => {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : ''
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`
}

switch (verb) {
  case 'config':
    exit(0, 'fake-context\n')
    break
  case 'version':
    if (state.unreachable) exit(1, '', 'The connection to the server was refused\n')
    exit(0, 'Client Version: fake\nServer Version: fake\n')
    break
  case 'apply': {
    const file = option('--filename')
    const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8')
    const objects = parseAllDocuments(text)
      .map((d) => d.toJS())
      .filter(Boolean)
    if (file === '-') {
      // The release record.
      const [configMap] = objects
      state.release = configMap.data
      change()
      exit(0, `${objectName(configMap)} serverside-applied\n`)
    }
    const [key, value] = (option('--selector') ?? '').split('=')
    const selected = objects.filter((o) => o.metadata?.labels?.[key] === value)
    state.applied.push({ phase: value, namespace, objects: selected.map(objectName) })
    change()
    exit(0, selected.map((o) => `${objectName(o)}\n`).join(''))
    break
  }
  case 'wait':
    if (state.secretsFail) exit(1, '', 'error: timed out waiting for the condition\n')
    exit(0)
    break
  case 'rollout':
    if (state.rolloutFail && positional[2] === state.rolloutFail)
      exit(1, '', `error: ${state.rolloutFail} exceeded its progress deadline\n`)
    exit(0, `${positional[2]} successfully rolled out\n`)
    break
  case 'logs':
    exit(0, 'applying 20261201000000_add_column\nerror: column "x" already exists\n')
    break
  case 'delete':
    if (positional[1] === 'namespace') {
      delete state.namespaces?.[positional[2]]
      change()
    }
    exit(0)
    break
  case 'get': {
    const [, kind, name] = positional
    const output = option('--output') ?? ''
    if (kind === 'configmap') {
      const field = /\{\.data\.(\w+)\}/.exec(output)?.[1]
      exit(0, state.release?.[field] ?? '')
    }
    if (kind === 'job') exit(0, state.migration === 'fail' ? 'Failed ' : 'Complete ')
    if (kind === 'namespace') {
      const labels = state.namespaces?.[name]
      if (!labels) exit(0)
      if (output === 'name') exit(0, `namespace/${name}\n`)
      exit(0, labels['groundwork.dev/preview'] ?? '')
    }
    if (kind === 'namespaces') exit(0, Object.keys(state.namespaces ?? {}).join('\n'))
    exit(1, '', `fake kubectl: no answer for get ${kind}\n`)
    break
  }
  default:
    exit(1, '', `fake kubectl: unexpected ${args.join(' ')}\n`)
}
