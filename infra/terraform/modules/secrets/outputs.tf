output "names" {
  description = "Secret names by purpose: app, database/owner, database/app, database/worker, cache, integrations."
  value       = { for key, secret in aws_secretsmanager_secret.this : key => secret.name }
}

output "arns" {
  description = "Secret ARNs by purpose (what External Secrets may read)."
  value       = { for key, secret in aws_secretsmanager_secret.this : key => secret.arn }
}
