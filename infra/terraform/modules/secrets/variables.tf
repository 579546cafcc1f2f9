variable "name" {
  description = "Name of the environment's secret (groundwork/<environment>); the integrations secret is <name>/integrations."
  type        = string
}

variable "production" {
  description = "Production keeps a deleted secret recoverable for 30 days (others 7)."
  type        = bool
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the secrets."
  type        = string
}

variable "database" {
  description = "Where the database is and its owner login (from the database module)."
  type = object({
    host           = string
    port           = number
    name           = string
    owner_username = string
    owner_password = string
  })
  sensitive = true
}

variable "database_ca_bundle_path" {
  description = "Path of the Amazon RDS CA bundle inside the pods; MIGRATION_DATABASE_URL verifies the server against it (sslmode=verify-full)."
  type        = string
}

variable "cache" {
  description = "Where the cache is and its AUTH token (from the cache module)."
  type = object({
    host       = string
    port       = number
    auth_token = string
  })
  sensitive = true
}
