// What must hold in infra/terraform, checked on the parsed code without providers:
// the parts of `terraform validate` that concern our own modules (every reference,
// argument and required variable), and the promises the infrastructure makes
// (encryption, backups, no public data, no secret in the code, pinned versions).
// `terraform validate` with the AWS provider checks resource arguments on a machine
// that can download it (README).

import { type Hcl, references, strings, type TfModule, type TfTree } from './hcl.ts'

const META_ARGUMENTS = new Set([
  'source',
  'version',
  'providers',
  'depends_on',
  'count',
  'for_each',
])
/** Inputs that must reach the other modules through the settings module's checks. */
const GUARDED = ['network', 'cluster', 'database', 'pgbouncer', 'cache', 'backups']

const isExpression = (value: unknown) => typeof value === 'string' && value.includes('${')
const byType = (module: TfModule, type: string) =>
  Object.entries(module.resources).filter(([key]) => key.startsWith(`${type}.`))
const localModule = (tree: TfTree, from: TfModule, source: string) =>
  tree.modules.get(
    [...from.dir.split('/').filter(Boolean), ...source.split('/')]
      .reduce<string[]>((parts, part) => {
        if (part === '..') parts.pop()
        else if (part !== '.' && part !== '') parts.push(part)
        return parts
      }, [])
      .join('/'),
  )

/** Every problem found in the tree; none means the checks pass. */
export function checkTree(tree: TfTree): string[] {
  return [
    ...[...tree.modules.values()].flatMap((module) => [
      ...checkDeclarations(module),
      ...checkReferences(tree, module),
      ...checkModuleCalls(tree, module),
      ...checkVersions(module),
      ...checkSecurity(module),
      ...checkNoSecretLiterals(module),
    ]),
    ...checkRootUsesSettings(tree),
    ...checkEnvironments(tree),
  ]
}

function checkDeclarations(module: TfModule): string[] {
  const where = module.dir || 'root'
  return [
    ...Object.entries(module.variables).flatMap(([name, variable]) => [
      ...(variable.type ? [] : [`${where}: variable "${name}" has no type`]),
      ...(variable.description ? [] : [`${where}: variable "${name}" has no description`]),
    ]),
    ...Object.entries(module.outputs).flatMap(([name, output]) =>
      output.description ? [] : [`${where}: output "${name}" has no description`],
    ),
  ]
}

/** Like `terraform validate`: every var., local., module. and resource reference resolves. */
function checkReferences(tree: TfTree, module: TfModule): string[] {
  const where = module.dir || 'root'
  const everything = [
    module.variables,
    module.outputs,
    module.locals,
    module.modules,
    module.resources,
    module.providers,
  ]
  return references(everything).flatMap((reference) => {
    const [root, name, attribute] = reference.split('.') as [string, string, string | undefined]
    switch (root) {
      case 'var':
        return name in module.variables ? [] : [`${where}: ${reference} is not a declared variable`]
      case 'local':
        return name in module.locals ? [] : [`${where}: ${reference} is not a declared local`]
      case 'module': {
        const call = module.modules[name]
        if (!call) return [`${where}: ${reference} calls no declared module`]
        const target = localModule(tree, module, call.source)
        return attribute && target && !(attribute in target.outputs)
          ? [`${where}: ${reference}: ${target.dir} has no output "${attribute}"`]
          : []
      }
      case 'data':
        return `data.${name}.${attribute}` in module.resources
          ? []
          : [`${where}: ${reference} is not a declared data source`]
      default:
        return `${root}.${name}` in module.resources
          ? []
          : [`${where}: ${reference} is not a declared resource`]
    }
  })
}

/** Like `terraform validate`: calls of our modules pass exactly the variables they declare. */
function checkModuleCalls(tree: TfTree, module: TfModule): string[] {
  return Object.entries(module.modules).flatMap(([name, call]) => {
    if (!String(call.source).startsWith('.')) return []
    const target = localModule(tree, module, call.source)
    const where = `${module.dir || 'root'}: module "${name}"`
    if (!target) return [`${where}: no module at ${call.source}`]
    const passed = Object.keys(call).filter((key) => !META_ARGUMENTS.has(key))
    return [
      ...passed
        .filter((key) => !(key in target.variables))
        .map((key) => `${where} passes "${key}", which ${target.dir} does not declare`),
      ...Object.entries(target.variables)
        .filter(([key, variable]) => !('default' in variable) && !passed.includes(key))
        .map(([key]) => `${where} does not set the required variable "${key}"`),
    ]
  })
}

function checkVersions(module: TfModule): string[] {
  const where = module.dir || 'root'
  const terraform = module.terraform
  const problems: string[] = []
  if (!terraform.some((block: Hcl) => String(block.required_version ?? '').startsWith('>= 1.11')))
    problems.push(`${where}: required_version must be ">= 1.11" (S3 lock files, validation rules)`)
  for (const block of terraform)
    for (const providers of block.required_providers ?? [])
      for (const [name, requirement] of Object.entries<Hcl>(providers))
        if (!/^~> \d+\.\d+$/.test(requirement.version ?? ''))
          problems.push(`${where}: provider "${name}" must be pinned to its major ("~> X.Y")`)
  for (const [name, call] of Object.entries(module.modules))
    if (!String(call.source).startsWith('.') && !/^~> \d+\.\d+$/.test(call.version ?? ''))
      problems.push(`${where}: module "${name}" from the registry must be pinned ("~> X.Y")`)
  return problems
}

function checkSecurity(module: TfModule): string[] {
  const where = module.dir || 'root'
  const problems: string[] = []
  const expect = (ok: boolean, message: string) => ok || problems.push(`${where}: ${message}`)
  for (const [key, db] of byType(module, 'aws_db_instance')) {
    expect(
      db.storage_encrypted === true && isExpression(db.kms_key_id),
      `${key} must encrypt storage with our KMS key`,
    )
    expect(db.publicly_accessible === false, `${key} must not be publicly accessible`)
    expect(db.performance_insights_enabled === true, `${key} must have Performance Insights on`)
    expect(String(db.engine_version).startsWith('18'), `${key} must run PostgreSQL 18`)
    // The guardrails (modules/settings) decide these per environment; literals would bypass them.
    for (const attribute of [
      'backup_retention_period',
      'multi_az',
      'deletion_protection',
      'skip_final_snapshot',
    ])
      expect(
        String(db[attribute]).startsWith('${var.database.'),
        `${key}.${attribute} must come from the checked settings`,
      )
  }
  for (const [key, group] of byType(module, 'aws_db_parameter_group')) {
    const parameters = Object.fromEntries(
      (group.parameter ?? []).map((p: Hcl) => [p.name, p.value]),
    )
    expect(group.family === 'postgres18', `${key} must be of family postgres18`)
    expect(parameters['rds.force_ssl'] === '1', `${key} must set rds.force_ssl = 1`)
    expect('max_connections' in parameters, `${key} must size max_connections (PgBouncer)`)
  }
  for (const [key, cache] of byType(module, 'aws_elasticache_replication_group')) {
    expect(
      cache.transit_encryption_enabled === true && cache.transit_encryption_mode === 'required',
      `${key} must require TLS`,
    )
    expect(cache.at_rest_encryption_enabled === true, `${key} must encrypt at rest`)
    expect(isExpression(cache.auth_token), `${key} must require an AUTH token`)
    expect(
      String(cache.automatic_failover_enabled).startsWith('${var.cache.'),
      `${key} failover must come from the checked settings`,
    )
  }
  for (const [key, group] of byType(module, 'aws_elasticache_parameter_group')) {
    const parameters = Object.fromEntries(
      (group.parameter ?? []).map((p: Hcl) => [p.name, p.value]),
    )
    expect(
      parameters['maxmemory-policy'] === 'noeviction',
      `${key} must set maxmemory-policy noeviction (BullMQ)`,
    )
  }
  for (const [key] of byType(module, 'aws_s3_bucket')) {
    const bucket = `\${${key}.id}`
    const blocks = byType(module, 'aws_s3_bucket_public_access_block').filter(
      ([, b]) => b.bucket === bucket,
    )
    const flags = [
      'block_public_acls',
      'block_public_policy',
      'ignore_public_acls',
      'restrict_public_buckets',
    ]
    expect(
      blocks.some(([, b]) => flags.every((flag) => b[flag] === true)),
      `${key} must block every kind of public access`,
    )
    expect(
      byType(module, 'aws_s3_bucket_versioning').some(
        ([, v]) => v.bucket === bucket && v.versioning_configuration?.[0]?.status === 'Enabled',
      ),
      `${key} must be versioned`,
    )
    expect(
      byType(module, 'aws_s3_bucket_server_side_encryption_configuration').some(
        ([, e]) => e.bucket === bucket,
      ),
      `${key} must be encrypted`,
    )
  }
  for (const [key, rule] of byType(module, 'aws_vpc_security_group_ingress_rule'))
    expect(
      isExpression(rule.referenced_security_group_id) && !rule.cidr_ipv4 && !rule.cidr_ipv6,
      `${key} must admit one security group, not a network`,
    )
  for (const [key, secret] of byType(module, 'aws_secretsmanager_secret'))
    expect(isExpression(secret.kms_key_id), `${key} must be encrypted with our KMS key`)
  for (const [key, kms] of byType(module, 'aws_kms_key'))
    expect(kms.enable_key_rotation === true, `${key} must rotate`)
  return problems
}

const SECRET_NAME = /(password|secret|token|private_key|access_key)/i
const SECRET_TEXT = [
  /AKIA[0-9A-Z]{16}/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /:\/\/[^:/\s$]+:[^@/\s$]+@/,
]

/** Secrets come from random_password/random_bytes and Secrets Manager, never from the code. */
function checkNoSecretLiterals(module: TfModule): string[] {
  const where = module.dir || 'root'
  const everything = [
    module.variables,
    module.locals,
    module.modules,
    module.resources,
    module.outputs,
  ]
  return [...strings(everything)].flatMap(([path, value]) => {
    const attribute = path.split('.').pop() ?? ''
    const literalSecret =
      SECRET_NAME.test(attribute) &&
      !/(_arn|_id|_version|_strategy|_name|description)$/.test(attribute)
    if (literalSecret && value !== '' && !isExpression(value) && !value.startsWith('arn:'))
      return [`${where}: ${path} is a hard-coded secret`]
    return SECRET_TEXT.some((pattern) => pattern.test(value))
      ? [`${where}: ${path} holds credentials`]
      : []
  })
}

/** The root passes the guarded settings only to the settings module, so its checks bind. */
function checkRootUsesSettings(tree: TfTree): string[] {
  const root = tree.modules.get('')
  if (!root) return ['no root module']
  return Object.entries(root.modules).flatMap(([name, call]) =>
    name === 'settings'
      ? []
      : references(call)
          .filter((reference) => GUARDED.some((input) => reference === `var.${input}`))
          .map(
            (reference) =>
              `root: module "${name}" reads ${reference}; take it from module.settings`,
          ),
  )
}

function checkEnvironments(tree: TfTree): string[] {
  const root = tree.modules.get('') as TfModule
  const settings = tree.modules.get('modules/settings') as TfModule
  const problems = Object.entries(settings.variables)
    .filter(
      ([name, variable]) => root.variables[name] && root.variables[name].type !== variable.type,
    )
    .map(([name]) => `root: variable "${name}" has another type than modules/settings declares`)
  if (tree.tfvars.size === 0) problems.push('no environments/<env>/terraform.tfvars')
  for (const [env, values] of tree.tfvars) {
    for (const [name, variable] of Object.entries(root.variables))
      if (!('default' in variable) && !(name in values))
        problems.push(`environments/${env}: terraform.tfvars does not set "${name}"`)
    for (const name of Object.keys(values))
      if (!(name in root.variables))
        problems.push(`environments/${env}: "${name}" is not a variable`)
    if (values.environment !== env)
      problems.push(`environments/${env}: environment must be "${env}"`)
    if (env === 'production' && values.production !== true)
      problems.push('environments/production: production must be true')
    const backend = tree.backends.get(env)
    if (!backend) problems.push(`environments/${env}: no backend.hcl`)
    else {
      if (backend.key !== `groundwork/${env}/terraform.tfstate`)
        problems.push(
          `environments/${env}: backend.hcl key must be groundwork/${env}/terraform.tfstate`,
        )
      if (backend.use_lockfile !== true || backend.encrypt !== true)
        problems.push(`environments/${env}: backend.hcl must set use_lockfile and encrypt`)
    }
  }
  return problems
}
