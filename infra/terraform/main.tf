# One environment of Groundwork on AWS: a VPC, an EKS cluster for the api, web and
# worker (deployed by infra/k8s), RDS PostgreSQL 18, ElastiCache Valkey, the secrets
# External Secrets hands to the pods, and a bucket for logical backups.

# Checks this environment's settings (production's guardrails) and derives names and
# subnets. Every module below takes its values from here, never from var.* directly.
module "settings" {
  source = "./modules/settings"

  environment = var.environment
  production  = var.production
  network     = var.network
  cluster     = var.cluster
  database    = var.database
  pgbouncer   = var.pgbouncer
  cache       = var.cache
  backups     = var.backups
}

# One key per environment for everything at rest: database storage, snapshots and
# Performance Insights, the cache, the secrets and the backup bucket.
resource "aws_kms_key" "data" {
  description             = "${module.settings.name}: data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "data" {
  name          = "alias/${module.settings.name}"
  target_key_id = aws_kms_key.data.key_id
}

module "network" {
  source = "./modules/network"

  name    = module.settings.name
  network = module.settings.network
}

module "cluster" {
  source = "./modules/cluster"

  name                         = module.settings.name
  cluster                      = module.settings.cluster
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.private_subnet_ids
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  admin_principal_arns         = var.cluster_admin_principal_arns
  app_namespace                = var.app_namespace
  secret_arns                  = module.secrets.arns
  kms_key_arn                  = aws_kms_key.data.arn
  backup_bucket_arn            = module.backups.bucket_arn
}

module "database" {
  source = "./modules/database"

  name                     = module.settings.name
  database                 = module.settings.database
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.database_subnet_ids
  client_security_group_id = module.cluster.node_security_group_id
  kms_key_arn              = aws_kms_key.data.arn
}

module "cache" {
  source = "./modules/cache"

  name                     = module.settings.name
  cache                    = module.settings.cache
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.database_subnet_ids
  client_security_group_id = module.cluster.node_security_group_id
  kms_key_arn              = aws_kms_key.data.arn
}

module "backups" {
  source = "./modules/backups"

  name        = module.settings.name
  backups     = module.settings.backups
  kms_key_arn = aws_kms_key.data.arn
}

module "secrets" {
  source = "./modules/secrets"

  name                    = module.settings.secret_name
  production              = var.production
  kms_key_arn             = aws_kms_key.data.arn
  database_ca_bundle_path = var.database_ca_bundle_path
  database = {
    host           = module.database.host
    port           = module.database.port
    name           = module.database.database_name
    owner_username = module.database.owner_username
    owner_password = module.database.owner_password
  }
  cache = {
    host       = module.cache.host
    port       = module.cache.port
    auth_token = module.cache.auth_token
  }
}
