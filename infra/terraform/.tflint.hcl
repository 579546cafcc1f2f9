# tflint, run where the registry and GitHub are reachable (README: "Validating with
# providers"): `tflint --init` downloads the AWS ruleset pinned here, then
# `tflint --recursive` lints every module (instance types, engine versions, names).
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.49.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}

# Every variable and output documents itself (checks.ts enforces it offline too).
rule "terraform_documented_variables" {
  enabled = true
}

rule "terraform_documented_outputs" {
  enabled = true
}
