output "name" {
  description = "Prefix of every resource name: groundwork-<environment>."
  value       = local.name
}

output "secret_name" {
  description = "The environment's Secrets Manager secret (its integrations secret is <name>/integrations)."
  value       = "groundwork/${var.environment}"
}

output "tags" {
  description = "Tags every resource carries (the provider's default_tags)."
  value = {
    Project     = "groundwork"
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}

output "network" {
  description = "The VPC settings with the subnets derived from its CIDR."
  value = merge(var.network, {
    private_subnets  = local.private_subnets
    public_subnets   = local.public_subnets
    database_subnets = local.database_subnets
  })
}

output "cluster" {
  description = "The EKS settings, checked."
  value       = var.cluster
}

output "database" {
  description = "The RDS settings, checked."
  value       = var.database
}

output "cache" {
  description = "The ElastiCache settings, checked, with what follows from the replica count."
  value = merge(var.cache, {
    automatic_failover = var.cache.replicas > 0
  })
}

output "backups" {
  description = "The backup bucket settings, checked."
  value       = var.backups
}
