variable "name" {
  description = "IAM role name (at most 64 characters)."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster whose service account assumes the role."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the service account."
  type        = string
}

variable "service_account" {
  description = "Kubernetes service account that gets the role (through EKS Pod Identity)."
  type        = string
}

variable "policy_json" {
  description = "The role's only permissions: an IAM policy document (JSON)."
  type        = string
}
