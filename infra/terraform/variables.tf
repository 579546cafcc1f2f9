# Set per environment in environments/<env>/terraform.tfvars. The settings module checks
# them (production's guardrails) before anything is planned.

variable "aws_account_id" {
  description = "The AWS account this environment lives in; any other account's credentials are refused."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be the 12-digit account id."
  }
}

variable "aws_region" {
  description = "AWS region of the environment, e.g. eu-central-1."
  type        = string
}

variable "environment" {
  description = "Short name of the environment (staging, production): prefixes resource and secret names."
  type        = string
}

variable "production" {
  description = "Whether this environment serves customers (turns on the production guardrails)."
  type        = bool
}

variable "network" {
  description = "VPC: a /16 CIDR, 2 or 3 availability zones, one NAT gateway per zone or one for all."
  type = object({
    cidr               = string
    az_count           = number
    nat_gateway_per_az = bool
  })
}

variable "cluster" {
  description = "EKS: Kubernetes version and the managed node group."
  type = object({
    kubernetes_version = string
    instance_types     = list(string)
    capacity_type      = string
    min_size           = number
    desired_size       = number
    max_size           = number
  })
}

variable "cluster_admin_principal_arns" {
  description = "IAM roles or users made cluster admins (the deploy pipeline's role, operators); nobody else gets into the cluster, the principal running Terraform included."
  type        = list(string)

  validation {
    condition     = length(var.cluster_admin_principal_arns) > 0 && alltrue([for arn in var.cluster_admin_principal_arns : can(regex("^arn:aws:iam::[0-9]{12}:(role|user)/", arn))])
    error_message = "cluster_admin_principal_arns must name at least one IAM role or user ARN."
  }
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "Networks that may reach the Kubernetes API (the deploy pipeline's and operators'); IAM authentication applies on top."
  type        = list(string)
}

variable "database" {
  description = "RDS PostgreSQL 18: class, storage, Multi-AZ, backup days, deletion protection, final snapshot, max_connections."
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

variable "pgbouncer" {
  description = "The in-cluster PgBouncer (replicas, and max_db_connections and the outbox listeners' listen_pool_size of its pools.ini), which max_connections must cover."
  type = object({
    replicas           = number
    max_db_connections = number
    listen_pool_size   = number
  })
}

variable "cache" {
  description = "ElastiCache Valkey: node type, replicas (automatic failover from 1), snapshot days."
  type = object({
    node_type               = string
    replicas                = number
    snapshot_retention_days = number
  })
}

variable "backups" {
  description = "The logical backup bucket: days an object is kept."
  type = object({
    retention_days = number
  })
}

variable "app_namespace" {
  description = "Kubernetes namespace of the application (infra/k8s: groundwork-<environment>); the backup CronJob's service account lives there."
  type        = string
}

variable "database_ca_bundle_path" {
  description = "Where the Amazon RDS CA bundle is mounted in the pods; the database URLs verify the server certificate against it."
  type        = string
  default     = "/etc/ssl/rds/global-bundle.pem"
}
