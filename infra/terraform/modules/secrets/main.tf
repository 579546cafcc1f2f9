# Every secret the application needs, generated here and stored in Secrets Manager,
# where External Secrets reads them into Kubernetes Secrets. Nothing is typed by hand
# except the third-party credentials in the "integrations" secret.

locals {
  tls = "sslmode=verify-full&sslrootcert=${var.database_ca_bundle_path}"
  # The app's and the worker's logins; the migration job creates them from these URLs.
  logins = {
    app    = "groundwork_app_login"
    worker = "groundwork_worker_login"
  }
  database_logins = merge(
    { owner = { username = var.database.owner_username, password = var.database.owner_password } },
    { for key, username in local.logins : key => { username = username, password = random_password.login[key].result } },
  )
  redis_url = "rediss://:${var.cache.auth_token}@${var.cache.host}:${var.cache.port}"
}

resource "random_password" "login" {
  for_each = local.logins
  length   = 40
  special  = false
}

# MFA_ENCRYPTION_KEY: 32 random bytes, base64, as the config schema demands.
resource "random_bytes" "secrets_key" {
  length = 32
}

resource "aws_secretsmanager_secret" "this" {
  for_each = toset(["app", "database/owner", "database/app", "database/worker", "cache", "integrations"])

  name                    = "${var.prefix}${each.key}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.production ? 30 : 7
}

# Keys named like the variables they become, for External Secrets' dataFrom.extract.
resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.this["app"].id
  secret_string = jsonencode({
    MFA_ENCRYPTION_KEY = random_bytes.secrets_key.base64
    REDIS_URL          = local.redis_url
  })
}

# One secret per login, in the shape RDS itself uses, plus a ready URL straight to the
# instance. The api and worker go through PgBouncer: their ExternalSecrets build the
# URLs from these fields.
resource "aws_secretsmanager_secret_version" "database" {
  # Static keys: for_each may not iterate over the (sensitive) logins themselves.
  for_each  = toset(["owner", "app", "worker"])
  secret_id = aws_secretsmanager_secret.this["database/${each.key}"].id
  secret_string = jsonencode({
    engine   = "postgres"
    host     = var.database.host
    port     = var.database.port
    dbname   = var.database.name
    username = local.database_logins[each.key].username
    password = local.database_logins[each.key].password
    url      = "postgresql://${local.database_logins[each.key].username}:${local.database_logins[each.key].password}@${var.database.host}:${var.database.port}/${var.database.name}?${local.tls}"
  })
}

resource "aws_secretsmanager_secret_version" "cache" {
  secret_id = aws_secretsmanager_secret.this["cache"].id
  secret_string = jsonencode({
    host     = var.cache.host
    port     = var.cache.port
    password = var.cache.auth_token
    url      = local.redis_url
  })
}

# Third-party credentials (SMTP_URL, STRIPE_WEBHOOK_SECRET, GITHUB_CLIENT_SECRET, ...):
# created empty, filled by an operator (docs/environments.md), never overwritten here.
resource "aws_secretsmanager_secret_version" "integrations" {
  secret_id     = aws_secretsmanager_secret.this["integrations"].id
  secret_string = jsonencode({})

  lifecycle {
    ignore_changes = [secret_string]
  }
}
