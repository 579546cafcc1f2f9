# Run once per AWS account, before anything else: makes the S3 bucket every
# environment's state lives in. Its own state is local (terraform.tfstate here, kept
# out of git); losing it loses nothing, `terraform import` takes the bucket back.
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = { Project = "groundwork", ManagedBy = "terraform" }
  }
}
