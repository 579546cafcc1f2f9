output "host" {
  description = "Hostname of the instance (the Multi-AZ failover keeps it)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "The application's database."
  value       = aws_db_instance.this.db_name
}

output "owner_username" {
  description = "The owner login (migrations, backups)."
  value       = aws_db_instance.this.username
}

output "owner_password" {
  description = "The owner login's password."
  value       = random_password.owner.result
  sensitive   = true
}

output "engine_version_actual" {
  description = "The PostgreSQL version running."
  value       = aws_db_instance.this.engine_version_actual
}
