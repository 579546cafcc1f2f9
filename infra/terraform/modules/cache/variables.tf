variable "name" {
  description = "Replication group id (groundwork-<environment>)."
  type        = string
}

variable "cache" {
  description = "The settings module's cache output: node type, replicas, snapshots and whether failover is on."
  type = object({
    node_type               = string
    replicas                = number
    snapshot_retention_days = number
    automatic_failover      = bool
  })
}

variable "vpc_id" {
  description = "VPC of the cache's security group."
  type        = string
}

variable "subnet_ids" {
  description = "Database subnets (no internet route), one per availability zone."
  type        = list(string)
}

variable "client_security_group_id" {
  description = "The only security group allowed to connect: the EKS nodes'."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the data at rest and the snapshots."
  type        = string
}
