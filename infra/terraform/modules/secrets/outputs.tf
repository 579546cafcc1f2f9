output "names" {
  description = "Secret names: environment (groundwork/<environment>) and integrations."
  value = {
    environment  = aws_secretsmanager_secret.environment.name
    integrations = aws_secretsmanager_secret.integrations.name
  }
}

output "arns" {
  description = "Secret ARNs (what External Secrets may read, and nothing else)."
  value       = [aws_secretsmanager_secret.environment.arn, aws_secretsmanager_secret.integrations.arn]
}
