# Production: survives losing an availability zone (Multi-AZ database, a cache replica
# with automatic failover, nodes and NAT in three zones) and keeps what it needs to
# recover (14 days of point-in-time recovery, 35 days of logical dumps). The settings
# module refuses less. Replace the account id, region and principals with yours.

aws_account_id = "222222222222"
aws_region     = "eu-west-1"
environment    = "production"
production     = true

network = {
  cidr               = "10.20.0.0/16"
  az_count           = 3
  nat_gateway_per_az = true
}

cluster = {
  kubernetes_version = "1.35"
  instance_types     = ["m7i.large"]
  capacity_type      = "ON_DEMAND"
  min_size           = 3
  desired_size       = 3
  max_size           = 9
}

cluster_admin_principal_arns         = ["arn:aws:iam::222222222222:role/groundwork-deploy"]
cluster_endpoint_public_access_cidrs = ["0.0.0.0/0"]
app_namespace                        = "groundwork-production"

database = {
  instance_class        = "db.m7g.large"
  allocated_storage     = 50
  max_allocated_storage = 500
  multi_az              = true
  backup_retention_days = 14
  deletion_protection   = true
  skip_final_snapshot   = false
  max_connections       = 250
}

# infra/k8s/overlays/production: scale.yaml (replicas) and pools.ini (max_db_connections, and
# the pool_size of groundwork_listen, the outbox listeners' session database).
pgbouncer = {
  replicas           = 3
  max_db_connections = 45
  listen_pool_size   = 25
}

cache = {
  node_type               = "cache.m7g.large"
  replicas                = 1
  snapshot_retention_days = 7
}

backups = {
  retention_days = 35
}
