// infra/terraform through the terraform CLI, without an AWS account or the registry:
// `terraform fmt`, and the real `terraform validate`, `terraform test` and `terraform
// plan` on the provider-free settings module (production's guardrails, fed each
// environment's tfvars). Each check is shown to fail on a broken copy. checks.test.ts
// covers the rest statically; the AWS provider's own validation runs where the
// registry is reachable (README: "Validating with providers").

import { spawnSync } from 'node:child_process'
import { devNull } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTree, parseHcl } from './hcl.ts'
import { terraformDir as here, scratchSpace } from './scratch.ts'

const scratch = scratchSpace('terraform')
const copyOf = scratch.copyOf
afterAll(scratch.remove)

/** Runs terraform offline: no update check, no user config, never a prompt. */
function terraform(args: string[], cwd: string) {
  const result = spawnSync('terraform', [...args, '-no-color'], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TF_CLI_CONFIG_FILE: devNull,
      CHECKPOINT_DISABLE: '1',
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
    },
  })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

const installed = terraform(['version'], here).status === 0

describe.skipIf(!installed && process.env.CI !== 'true')('terraform CLI checks', () => {
  beforeAll(() => {
    if (!installed)
      throw new Error('terraform (1.11 or later) is not on PATH: CI needs it for these checks')
  })

  it('every file is formatted the way `terraform fmt` writes it', () => {
    const { status, output } = terraform(['fmt', '-check', '-recursive'], here)
    expect(output).toBe('')
    expect(status).toBe(0)
  })

  it('`terraform fmt -check` fails on a badly formatted copy and names the file', () => {
    const copy = copyOf('modules/cache', {
      file: 'main.tf',
      from: '  engine               = "valkey"',
      to: 'engine="valkey"',
    })
    const { status, output } = terraform(['fmt', '-check', '-recursive'], copy)
    expect(status).toBe(3)
    expect(output).toContain('main.tf')
  })

  describe('the settings module (no provider: validate, test and plan run offline)', () => {
    let settings: string
    beforeAll(() => {
      settings = copyOf('modules/settings')
      const init = terraform(['init', '-backend=false', '-input=false'], settings)
      expect(init.output).toContain('Terraform has been successfully initialized')
    })

    it('passes `terraform validate` and its guardrail tests (`terraform test`)', () => {
      expect(terraform(['validate'], settings)).toMatchObject({ status: 0 })
      const test = terraform(['test'], settings)
      expect(test.output).toMatch(/Success! \d+ passed, 0 failed/)
      expect(test.status).toBe(0)
    })

    it('its tests fail when a guardrail is taken out', () => {
      const broken = copyOf('modules/settings', {
        file: 'variables.tf',
        from: 'var.database.multi_az &&',
        to: '',
      })
      expect(terraform(['init', '-backend=false', '-input=false'], broken).status).toBe(0)
      const test = terraform(['test'], broken)
      expect(test.output).toMatch(/run "production_database_must_be_multi_az"\.\.\. fail/)
      expect(test.status).toBe(1)
    })

    /** Plans the settings module with the settings part of an environment's tfvars. */
    async function planWith(env: string, change?: (values: Record<string, unknown>) => void) {
      const values = await parseHcl(join(here, 'environments', env, 'terraform.tfvars'))
      change?.(values)
      const declared = Object.keys((await loadTree(settings)).modules.get('')?.variables ?? {})
      const picked = Object.entries(values).filter(([name]) => declared.includes(name))
      const file = scratch.file(`${env}.tfvars.json`, JSON.stringify(Object.fromEntries(picked)))
      return terraform(['plan', '-input=false', '-lock=false', `-var-file=${file}`], settings)
    }

    it.each(['staging', 'production'])('%s: the settings pass the guardrails', async (env) => {
      const plan = await planWith(env)
      expect(plan.output).toMatch(new RegExp(`name\\s+= "groundwork-${env}"`))
      expect(plan.status).toBe(0)
    })

    it('production without a Multi-AZ database is refused before anything is planned', async () => {
      const plan = await planWith('production', (values) => {
        ;(values.database as Record<string, unknown>).multi_az = false
      })
      expect(plan.output).toContain("production's database must be Multi-AZ")
      expect(plan.status).toBe(1)
    })
  })
})
