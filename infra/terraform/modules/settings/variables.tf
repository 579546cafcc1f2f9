variable "environment" {
  description = "Short name of the environment (staging, production, ...): prefixes every resource and secret name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 lowercase letters, digits or dashes, starting with a letter (it becomes part of AWS resource names)."
  }
}

variable "production" {
  description = "Whether this environment serves customers: turns on the guardrails below (high availability, backups kept long enough, nothing deleted by accident)."
  type        = bool
}

variable "network" {
  description = "VPC: a /16 CIDR, how many availability zones to spread over, and whether each zone gets its own NAT gateway (else one NAT for all)."
  type = object({
    cidr               = string
    az_count           = number
    nat_gateway_per_az = bool
  })

  validation {
    condition     = can(cidrhost(var.network.cidr, 0)) && try(tonumber(split("/", var.network.cidr)[1]) == 16, false)
    error_message = "network.cidr must be an IPv4 /16 (the subnets are carved out of it as /20s and /24s)."
  }
  validation {
    condition     = var.network.az_count >= 2 && var.network.az_count <= 3
    error_message = "network.az_count must be 2 or 3: EKS and RDS need subnets in at least two zones."
  }
  validation {
    condition     = !var.production || (var.network.az_count == 3 && var.network.nat_gateway_per_az)
    error_message = "production needs 3 availability zones, each with its own NAT gateway (one zone going down must not cut the others off)."
  }
}

variable "cluster" {
  description = "EKS: Kubernetes version and the managed node group (instance types, ON_DEMAND or SPOT, and its size)."
  type = object({
    kubernetes_version = string
    instance_types     = list(string)
    capacity_type      = string
    min_size           = number
    desired_size       = number
    max_size           = number
  })

  validation {
    condition     = can(regex("^1\\.[0-9]+$", var.cluster.kubernetes_version))
    error_message = "cluster.kubernetes_version must be a minor version like 1.35."
  }
  validation {
    condition     = length(var.cluster.instance_types) > 0 && contains(["ON_DEMAND", "SPOT"], var.cluster.capacity_type)
    error_message = "cluster needs at least one instance type and capacity_type ON_DEMAND or SPOT."
  }
  validation {
    condition     = var.cluster.min_size >= 1 && var.cluster.min_size <= var.cluster.desired_size && var.cluster.desired_size <= var.cluster.max_size
    error_message = "cluster sizes must satisfy 1 <= min_size <= desired_size <= max_size."
  }
  validation {
    condition     = !var.production || (var.cluster.min_size >= 2 && var.cluster.capacity_type == "ON_DEMAND")
    error_message = "production needs at least 2 ON_DEMAND nodes, so a node going away (or a Spot reclaim) never takes every replica with it."
  }
}

variable "database" {
  description = "RDS PostgreSQL 18: instance class, storage (GiB, grows up to the max on its own), Multi-AZ, days of automated backups (point-in-time recovery covers them), deletion protection, whether destroying skips the final snapshot, and max_connections."
  type = object({
    instance_class        = string
    allocated_storage     = number
    max_allocated_storage = number
    multi_az              = bool
    backup_retention_days = number
    deletion_protection   = bool
    skip_final_snapshot   = bool
    max_connections       = number
  })

  validation {
    condition     = startswith(var.database.instance_class, "db.")
    error_message = "database.instance_class must be an RDS class such as db.t4g.small."
  }
  validation {
    condition     = var.database.allocated_storage >= 20 && var.database.max_allocated_storage >= var.database.allocated_storage
    error_message = "database storage must be at least 20 GiB, with max_allocated_storage >= allocated_storage."
  }
  validation {
    condition     = var.database.backup_retention_days >= 1 && var.database.backup_retention_days <= 35
    error_message = "database.backup_retention_days must be 1-35: 0 would turn off automated backups and with them point-in-time recovery."
  }
  validation {
    condition = !var.production || (
      var.database.multi_az &&
      var.database.backup_retention_days >= 7 &&
      var.database.deletion_protection &&
      !var.database.skip_final_snapshot
    )
    error_message = "production's database must be Multi-AZ, keep at least 7 days of backups, have deletion protection on and take a final snapshot if destroyed."
  }
  # Each PgBouncer replica opens at most max_db_connections server connections (both
  # logins and its reserve pool together), plus listen_pool_size for the outbox listeners'
  # sessions (ADR 038); 20 more stay for migrations, the backup job, an operator's psql
  # and the connections RDS reserves for itself.
  validation {
    condition     = var.database.max_connections >= var.pgbouncer.replicas * (var.pgbouncer.max_db_connections + var.pgbouncer.listen_pool_size) + 20
    error_message = "database.max_connections must cover PgBouncer (replicas x (max_db_connections + listen_pool_size)) plus 20 for migrations, backups, operators and RDS itself."
  }
}

variable "pgbouncer" {
  description = "The in-cluster PgBouncer that api and worker connect through (infra/k8s): its replicas, the server connections each may open for the apps' transaction pools (max_db_connections in its pools.ini) and for the outbox listeners' sessions (listen_pool_size: the pool_size of groundwork_listen in its pools.ini). Sizes max_connections below."
  type = object({
    replicas           = number
    max_db_connections = number
    listen_pool_size   = number
  })

  validation {
    condition     = var.pgbouncer.replicas >= 1 && var.pgbouncer.max_db_connections >= 1 && var.pgbouncer.listen_pool_size >= 1
    error_message = "pgbouncer.replicas, pgbouncer.max_db_connections and pgbouncer.listen_pool_size must be at least 1."
  }
}

variable "cache" {
  description = "ElastiCache (Valkey, cluster mode off): node type, read replicas (1 or more turns on automatic failover across zones), and days of daily snapshots."
  type = object({
    node_type               = string
    replicas                = number
    snapshot_retention_days = number
  })

  validation {
    condition     = startswith(var.cache.node_type, "cache.") && var.cache.replicas >= 0 && var.cache.replicas <= 5
    error_message = "cache.node_type must be an ElastiCache type such as cache.t4g.small, with 0-5 replicas."
  }
  validation {
    condition     = var.cache.snapshot_retention_days >= 0 && var.cache.snapshot_retention_days <= 35
    error_message = "cache.snapshot_retention_days must be 0-35."
  }
  validation {
    condition     = !var.production || (var.cache.replicas >= 1 && var.cache.snapshot_retention_days >= 1)
    error_message = "production's cache needs a replica (automatic failover: queues survive losing a node) and daily snapshots."
  }
}

variable "backups" {
  description = "The S3 bucket the backup CronJob writes logical dumps to: days an object is kept (older ones expire)."
  type = object({
    retention_days = number
  })

  validation {
    condition     = var.backups.retention_days >= 1
    error_message = "backups.retention_days must be at least 1."
  }
  validation {
    condition     = !var.production || var.backups.retention_days >= 30
    error_message = "production keeps logical backups at least 30 days (the restore point of last resort when point-in-time recovery's window has passed)."
  }
}
