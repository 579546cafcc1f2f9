variable "aws_account_id" {
  description = "The AWS account the state bucket belongs to."
  type        = string
}

variable "aws_region" {
  description = "Region of the state bucket (the environments' backend.hcl names it too)."
  type        = string
}

variable "bucket" {
  description = "Name of the state bucket (globally unique, e.g. groundwork-terraform-state-<account id>)."
  type        = string
}
