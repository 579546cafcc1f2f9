resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name        = "${var.name}-valkey"
  description = "Valkey, reachable from the EKS nodes only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "from_nodes" {
  security_group_id            = aws_security_group.this.id
  description                  = "Valkey from the EKS nodes"
  referenced_security_group_id = var.client_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.name}-valkey8"
  family      = "valkey8"
  description = "BullMQ queues and rate limits: never evict"

  # BullMQ keeps jobs in these keys: evicting one under memory pressure loses a job
  # silently. With noeviction a full cache refuses writes, which the app reports.
  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }
}

# The AUTH token clients send (REDIS_URL's password). Letters and digits only: valid
# for ElastiCache and safe in a URL.
resource "random_password" "auth_token" {
  length  = 64
  special = false
}

# Valkey, the open-source continuation of Redis OSS 7.2, which BullMQ tests against.
# Cluster mode off: BullMQ's multi-key scripts need every key on one shard.
resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "Groundwork queues, rate limits and caches"

  engine               = "valkey"
  engine_version       = "8.2"
  node_type            = var.cache.node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name

  num_cache_clusters         = 1 + var.cache.replicas
  automatic_failover_enabled = var.cache.automatic_failover
  multi_az_enabled           = var.cache.automatic_failover

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.auth_token.result
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = var.cache.snapshot_retention_days
  snapshot_window            = "01:00-02:00"
  maintenance_window         = "sun:04:30-sun:05:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false
}
