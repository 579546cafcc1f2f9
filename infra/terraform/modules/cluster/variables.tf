variable "name" {
  description = "Cluster name (groundwork-<environment>)."
  type        = string
}

variable "cluster" {
  description = "The settings module's cluster output: Kubernetes version and the node group."
  type = object({
    kubernetes_version = string
    instance_types     = list(string)
    capacity_type      = string
    min_size           = number
    desired_size       = number
    max_size           = number
  })
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the nodes and the control plane's network interfaces."
  type        = list(string)
}

variable "endpoint_public_access_cidrs" {
  description = "Networks that may reach the Kubernetes API endpoint (callers still need an IAM identity with an access entry)."
  type        = list(string)
}

variable "admin_principal_arns" {
  description = "IAM roles or users (the deploy pipeline's role, operators) made cluster admins through EKS access entries."
  type        = list(string)
}

variable "app_namespace" {
  description = "Kubernetes namespace the application runs in (the backup CronJob's service account is there)."
  type        = string
}

variable "secret_arns" {
  description = "Secrets Manager secrets External Secrets may read (and nothing else)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "The environment's KMS key (secrets and backups are encrypted with it)."
  type        = string
}

variable "backup_bucket_arn" {
  description = "The S3 bucket the backup CronJob writes to and restores from."
  type        = string
}
