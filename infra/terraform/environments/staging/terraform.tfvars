# Staging: the same shape as production, as small and cheap as it goes. One zone's
# outage or a Spot reclaim may take it down for a while; nothing here is precious.
# Replace the account id, region and principals with yours (README: "Bootstrap").

aws_account_id = "111111111111"
aws_region     = "eu-west-1"
environment    = "staging"
production     = false

network = {
  cidr               = "10.10.0.0/16"
  az_count           = 2
  nat_gateway_per_az = false
}

cluster = {
  kubernetes_version = "1.35"
  instance_types     = ["t3.large", "t3a.large", "m6i.large"]
  capacity_type      = "SPOT"
  min_size           = 2
  desired_size       = 2
  max_size           = 4
}

cluster_admin_principal_arns         = ["arn:aws:iam::111111111111:role/groundwork-deploy"]
cluster_endpoint_public_access_cidrs = ["0.0.0.0/0"]
app_namespace                        = "groundwork-staging"

database = {
  instance_class        = "db.t4g.small"
  allocated_storage     = 20
  max_allocated_storage = 100
  multi_az              = false
  backup_retention_days = 7
  deletion_protection   = false
  skip_final_snapshot   = true
  max_connections       = 100
}

# infra/k8s/overlays/staging: scale.yaml (replicas) and pools.ini (max_db_connections, and
# the pool_size of groundwork_listen, the outbox listeners' session database).
pgbouncer = {
  replicas           = 2
  max_db_connections = 22
  listen_pool_size   = 5
}

cache = {
  node_type               = "cache.t4g.micro"
  replicas                = 0
  snapshot_retention_days = 1
}

backups = {
  retention_days = 14
}
