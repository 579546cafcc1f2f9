# No providers on purpose: this module only checks and derives settings, so
# `terraform validate`, `terraform test` and `terraform plan` run on it anywhere,
# offline included (infra/terraform/terraform.test.ts does, in CI).
terraform {
  required_version = ">= 1.11"
}
