# What the deploy needs (README: "What the outputs feed"). None is secret: the secrets
# stay in Secrets Manager, and these only name them.

output "aws_region" {
  description = "Region of everything below (External Secrets' SecretStore needs it)."
  value       = var.aws_region
}

output "cluster_name" {
  description = "EKS cluster name."
  value       = module.cluster.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.cluster.cluster_endpoint
}

output "kubeconfig_command" {
  description = "Writes a kubeconfig context for this cluster."
  value       = "aws eks update-kubeconfig --region ${var.aws_region} --name ${module.cluster.cluster_name}"
}

output "vpc_id" {
  description = "VPC id (the AWS Load Balancer Controller's Helm values ask for it)."
  value       = module.network.vpc_id
}

output "vpc_cidr" {
  description = "VPC range (infra/k8s vpcCidr: the load balancer's and the managed data's addresses)."
  value       = module.network.vpc_cidr
}

output "secret_names" {
  description = "Secrets Manager secrets for External Secrets: environment (infra/k8s secretsPath) and integrations (integrationsSecretsPath)."
  value       = module.secrets.names
}

output "database_host" {
  description = "RDS endpoint (infra/k8s postgresHost: PgBouncer's upstream)."
  value       = module.database.host
}

output "database_port" {
  description = "RDS port."
  value       = module.database.port
}

output "database_name" {
  description = "The application's database."
  value       = module.database.database_name
}

output "database_engine_version" {
  description = "The PostgreSQL version RDS runs."
  value       = module.database.engine_version_actual
}

output "cache_host" {
  description = "ElastiCache primary endpoint (TLS on 6379); the environment secret carries it as REDIS_HOST."
  value       = module.cache.host
}

output "namespace" {
  description = "Kubernetes namespace of the application, whose groundwork-backup service account may write to the bucket."
  value       = var.app_namespace
}

output "backup_bucket" {
  description = "S3 bucket the backup CronJob writes to (infra/k8s backupDestination: s3://<bucket>/postgres)."
  value       = module.backups.bucket
}

output "role_arns" {
  description = "IAM roles bound to in-cluster service accounts through EKS Pod Identity, by component."
  value       = module.cluster.role_arns
}
