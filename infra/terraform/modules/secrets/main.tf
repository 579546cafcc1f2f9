# The secrets the application needs, generated here and stored in Secrets Manager,
# where External Secrets reads them into Kubernetes Secrets (infra/k8s builds the URLs
# and PgBouncer's user list from these properties). Nobody types a password; only the
# third-party credentials of the integrations secret are filled in by hand.

# The app's and the worker's logins (the migration job creates them with these
# passwords). Letters and digits only, so URLs need no escaping.
resource "random_password" "login" {
  for_each = toset(["app", "worker"])
  length   = 40
  special  = false
}

# MFA_ENCRYPTION_KEY: 32 random bytes, base64, as the config schema demands.
resource "random_bytes" "secrets_key" {
  length = 32
}

resource "aws_secretsmanager_secret" "environment" {
  name                    = var.name
  description             = "Groundwork ${var.name}: database and cache credentials, the key of secrets at rest"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.production ? 30 : 7
}

resource "aws_secretsmanager_secret_version" "environment" {
  secret_id = aws_secretsmanager_secret.environment.id
  secret_string = jsonencode({
    APP_DB_PASSWORD        = random_password.login["app"].result
    WORKER_DB_PASSWORD     = random_password.login["worker"].result
    MIGRATION_DATABASE_URL = "postgresql://${var.database.owner_username}:${var.database.owner_password}@${var.database.host}:${var.database.port}/${var.database.name}?sslmode=verify-full&sslrootcert=${var.database_ca_bundle_path}"
    REDIS_HOST             = var.cache.host
    REDIS_PORT             = tostring(var.cache.port)
    REDIS_PASSWORD         = var.cache.auth_token
    MFA_ENCRYPTION_KEY     = random_bytes.secrets_key.base64
  })
}

# Third-party credentials (SMTP_URL, STRIPE_WEBHOOK_SECRET, GITHUB_CLIENT_SECRET, ...):
# created empty, filled in by an operator (docs/environments.md), never overwritten here.
resource "aws_secretsmanager_secret" "integrations" {
  name                    = "${var.name}/integrations"
  description             = "Groundwork ${var.name}: third-party credentials, filled in by hand"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.production ? 30 : 7
}

resource "aws_secretsmanager_secret_version" "integrations" {
  secret_id     = aws_secretsmanager_secret.integrations.id
  secret_string = jsonencode({})

  lifecycle {
    ignore_changes = [secret_string]
  }
}
