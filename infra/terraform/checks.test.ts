// The static checks of checks.ts on the parsed tree: the real files pass, and a copy
// with one promise broken (see the table) is caught with a message that says which.

import { afterAll, describe, expect, it } from 'vitest'
import { checkTree } from './checks.ts'
import { loadTree } from './hcl.ts'
import { terraformDir as here, scratchSpace } from './scratch.ts'

const scratch = scratchSpace('terraform-checks')
const copyOf = scratch.copyOf
afterAll(scratch.remove)

describe('static checks (the parsed tree)', () => {
  it('the tree passes every check', async () => {
    expect(checkTree(await loadTree(here))).toEqual([])
  })

  it('a syntax error names the file', async () => {
    const copy = copyOf('.', { file: 'modules/cache/main.tf', from: 'resource', to: 'resource {' })
    await expect(loadTree(copy)).rejects.toThrow(/modules\/cache\/main\.tf/)
  })

  // [what breaks, file, from, to, the problem reported]
  const mutations: [string, string, string, string, string][] = [
    [
      'unencrypted RDS storage',
      'modules/database/main.tf',
      'storage_encrypted     = true',
      'storage_encrypted     = false',
      'must encrypt storage',
    ],
    [
      'a public database',
      'modules/database/main.tf',
      'publicly_accessible    = false',
      'publicly_accessible    = true',
      'must not be publicly accessible',
    ],
    [
      'backup days written into the resource',
      'modules/database/main.tf',
      '= var.database.backup_retention_days',
      '= 1',
      'backup_retention_period must come from the checked settings',
    ],
    [
      'deletion protection written into the resource',
      'modules/database/main.tf',
      '= var.database.deletion_protection',
      '= false',
      'deletion_protection must come from the checked settings',
    ],
    [
      'TLS not forced',
      'modules/database/main.tf',
      '"rds.force_ssl"\n    value        = "1"',
      '"rds.force_ssl"\n    value        = "0"',
      'must set rds.force_ssl = 1',
    ],
    [
      'cache without TLS',
      'modules/cache/main.tf',
      'transit_encryption_enabled = true',
      'transit_encryption_enabled = false',
      'must require TLS',
    ],
    [
      'cache evicting queue keys',
      'modules/cache/main.tf',
      '"noeviction"',
      '"allkeys-lru"',
      'noeviction',
    ],
    [
      'a bucket open to public policies',
      'modules/backups/main.tf',
      'block_public_policy     = true',
      'block_public_policy     = false',
      'must block every kind of public access',
    ],
    [
      'an unversioned bucket',
      'modules/backups/main.tf',
      'versioning_configuration {\n    status = "Enabled"',
      'versioning_configuration {\n    status = "Suspended"',
      'must be versioned',
    ],
    [
      'a password in the code',
      'modules/database/main.tf',
      'password = random_password.owner.result',
      'password = "correct-horse-battery"',
      'hard-coded secret',
    ],
    [
      'credentials in a URL',
      'modules/secrets/main.tf',
      'MIGRATION_DATABASE_URL = "postgresql://',
      'MIGRATION_DATABASE_URL = "postgresql://owner:hunter22@db:5432/?',
      'holds credentials',
    ],
    [
      'a variable without description',
      'modules/cache/variables.tf',
      '  description = "KMS key that encrypts the data at rest and the snapshots."\n',
      '',
      'variable "kms_key_arn" has no description',
    ],
    [
      'an unpinned provider',
      'versions.tf',
      'version = "~> 6.0"',
      'version = ">= 6.0"',
      'provider "aws" must be pinned',
    ],
    [
      'an unpinned registry module',
      'modules/cluster/main.tf',
      '  version = "~> 21.0"\n',
      '',
      'module "eks" from the registry must be pinned',
    ],
    [
      'an undeclared variable',
      'modules/cache/main.tf',
      'kms_key_id                 = var.kms_key_arn',
      'kms_key_id                 = var.kms_key',
      'var.kms_key is not a declared variable',
    ],
    [
      'a renamed output still referenced',
      'modules/database/outputs.tf',
      'output "host" {',
      'output "hostname" {',
      'modules/database has no output "host"',
    ],
    [
      'a module call with a wrong argument',
      'main.tf',
      '  backups     = module.settings.backups',
      '  retention   = module.settings.backups',
      'does not set the required variable "backups"',
    ],
    [
      'guardrails bypassed',
      'main.tf',
      'database                 = module.settings.database',
      'database                 = var.database',
      'reads var.database; take it from module.settings',
    ],
    [
      'an environment missing a setting',
      'environments/production/terraform.tfvars',
      'backups = {\n  retention_days = 35\n}\n',
      '',
      'terraform.tfvars does not set "backups"',
    ],
    [
      'production not marked production',
      'environments/production/terraform.tfvars',
      'production     = true',
      'production     = false',
      'production must be true',
    ],
    [
      'two environments sharing a state',
      'environments/staging/backend.hcl',
      'groundwork/staging/',
      'groundwork/production/',
      'key must be groundwork/staging/',
    ],
    [
      'state without locking',
      'environments/production/backend.hcl',
      'use_lockfile = true',
      'use_lockfile = false',
      'must set use_lockfile',
    ],
    [
      'database open to a network',
      'modules/database/main.tf',
      '  referenced_security_group_id = var.client_security_group_id\n',
      '  cidr_ipv4                    = "0.0.0.0/0"\n',
      'must admit one security group',
    ],
    [
      'root and settings types drifting apart',
      'variables.tf',
      '    max_db_connections = number',
      '    max_db_connections = string',
      'variable "pgbouncer" has another type',
    ],
  ]

  it.each(mutations)('catch %s', async (_, file, from, to, problem) => {
    const problems = checkTree(await loadTree(copyOf('.', { file, from, to })))
    expect(problems.join('\n')).toContain(problem)
  })
})
