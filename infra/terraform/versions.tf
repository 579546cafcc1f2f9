terraform {
  # 1.11: S3 state locking with a lock file (use_lockfile) is generally available.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }

  # State in S3, locked by a lock file next to it (no DynamoDB table). Bucket, key and
  # region come from environments/<env>/backend.hcl (README: "Remote state").
  backend "s3" {}
}
