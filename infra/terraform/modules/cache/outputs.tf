output "host" {
  description = "Primary endpoint (follows a failover)."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Valkey port (TLS)."
  value       = aws_elasticache_replication_group.this.port
}

output "auth_token" {
  description = "The AUTH token."
  value       = random_password.auth_token.result
  sensitive   = true
}
