output "cluster_name" {
  description = "EKS cluster name."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "The cluster's CA certificate (base64), for kubeconfigs."
  value       = module.eks.cluster_certificate_authority_data
}

output "node_security_group_id" {
  description = "Security group of the nodes (and so of the pods): the only source RDS and ElastiCache accept."
  value       = module.eks.node_security_group_id
}

output "role_arns" {
  description = "IAM roles of the in-cluster components, by component."
  value = {
    external_secrets         = module.external_secrets_identity.role_arn
    backup                   = module.backup_identity.role_arn
    load_balancer_controller = module.load_balancer_controller_identity.iam_role_arn
  }
}
