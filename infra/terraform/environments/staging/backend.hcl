# terraform init -backend-config=environments/staging/backend.hcl (README: "Remote state").
# The bucket is the one infra/terraform/bootstrap made in this environment's account.
bucket       = "groundwork-terraform-state-CHANGE-ME"
key          = "groundwork/staging/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
