variable "name" {
  description = "Instance identifier (groundwork-<environment>)."
  type        = string
}

variable "database" {
  description = "The settings module's database output: class, storage, Multi-AZ, backups, protection and max_connections."
  type = object({
    instance_class        = string
    allocated_storage     = number
    max_allocated_storage = number
    multi_az              = bool
    backup_retention_days = number
    deletion_protection   = bool
    skip_final_snapshot   = bool
    max_connections       = number
  })
}

variable "vpc_id" {
  description = "VPC of the database's security group."
  type        = string
}

variable "subnet_ids" {
  description = "Database subnets (no internet route), one per availability zone."
  type        = list(string)
}

variable "client_security_group_id" {
  description = "The only security group allowed to connect: the EKS nodes' (PgBouncer, the migration and backup jobs run there)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts storage, snapshots, backups and Performance Insights."
  type        = string
}
