# `terraform test` in modules/settings: the guardrails refuse what production must not
# run with, and the derived values are what the other modules expect. No provider is
# involved, so this runs offline (infra/terraform/terraform.test.ts runs it in CI).

variables {
  environment = "production"
  production  = true
  network     = { cidr = "10.20.0.0/16", az_count = 3, nat_gateway_per_az = true }
  cluster = {
    kubernetes_version = "1.35"
    instance_types     = ["m7i.large"]
    capacity_type      = "ON_DEMAND"
    min_size           = 3
    desired_size       = 3
    max_size           = 6
  }
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
  pgbouncer = { replicas = 3, max_db_connections = 45, listen_pool_size = 25 }
  cache     = { node_type = "cache.m7g.large", replicas = 1, snapshot_retention_days = 7 }
  backups   = { retention_days = 35 }
}

run "production_settings_pass_and_derive_subnets" {
  command = plan

  assert {
    condition     = output.name == "groundwork-production" && output.secret_name == "groundwork/production"
    error_message = "names are derived from the environment"
  }
  assert {
    condition     = output.network.private_subnets == ["10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20"]
    error_message = "private subnets are the first three /20s"
  }
  assert {
    condition     = output.network.public_subnets == ["10.20.48.0/24", "10.20.49.0/24", "10.20.50.0/24"]
    error_message = "public subnets follow the private ones"
  }
  assert {
    condition     = output.network.database_subnets == ["10.20.56.0/24", "10.20.57.0/24", "10.20.58.0/24"]
    error_message = "database subnets do not overlap the others"
  }
  assert {
    condition     = output.cache.automatic_failover
    error_message = "a replica turns automatic failover on"
  }
}

run "staging_may_be_small" {
  command = plan

  variables {
    environment = "staging"
    production  = false
    network     = { cidr = "10.10.0.0/16", az_count = 2, nat_gateway_per_az = false }
    cluster = {
      kubernetes_version = "1.35"
      instance_types     = ["t3.large", "t3a.large"]
      capacity_type      = "SPOT"
      min_size           = 1
      desired_size       = 2
      max_size           = 3
    }
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
    pgbouncer = { replicas = 2, max_db_connections = 22, listen_pool_size = 5 }
    cache     = { node_type = "cache.t4g.micro", replicas = 0, snapshot_retention_days = 0 }
    backups   = { retention_days = 7 }
  }

  assert {
    condition     = length(output.network.private_subnets) == 2 && !output.cache.automatic_failover
    error_message = "two zones and no failover in a small environment"
  }
}

run "production_database_must_be_multi_az" {
  command = plan
  variables {
    database = {
      instance_class        = "db.m7g.large"
      allocated_storage     = 50
      max_allocated_storage = 500
      multi_az              = false
      backup_retention_days = 14
      deletion_protection   = true
      skip_final_snapshot   = false
      max_connections       = 250
    }
  }
  expect_failures = [var.database]
}

run "production_keeps_a_week_of_backups" {
  command = plan
  variables {
    database = {
      instance_class        = "db.m7g.large"
      allocated_storage     = 50
      max_allocated_storage = 500
      multi_az              = true
      backup_retention_days = 3
      deletion_protection   = true
      skip_final_snapshot   = false
      max_connections       = 250
    }
  }
  expect_failures = [var.database]
}

run "production_database_is_protected_from_deletion" {
  command = plan
  variables {
    database = {
      instance_class        = "db.m7g.large"
      allocated_storage     = 50
      max_allocated_storage = 500
      multi_az              = true
      backup_retention_days = 14
      deletion_protection   = false
      skip_final_snapshot   = false
      max_connections       = 250
    }
  }
  expect_failures = [var.database]
}

run "backups_cannot_be_turned_off_anywhere" {
  command = plan
  variables {
    production = false
    database = {
      instance_class        = "db.t4g.small"
      allocated_storage     = 20
      max_allocated_storage = 100
      multi_az              = false
      backup_retention_days = 0
      deletion_protection   = false
      skip_final_snapshot   = true
      max_connections       = 250
    }
  }
  expect_failures = [var.database]
}

run "max_connections_must_cover_pgbouncer" {
  command = plan
  variables {
    pgbouncer = { replicas = 5, max_db_connections = 45, listen_pool_size = 25 }
  }
  expect_failures = [var.database]
}

# The outbox listeners' session pools count too: 3 x (45 + 50) + 20 = 305 is over 250,
# though 3 x 45 + 20 alone is not.
run "max_connections_must_cover_the_listen_pools" {
  command = plan
  variables {
    pgbouncer = { replicas = 3, max_db_connections = 45, listen_pool_size = 50 }
  }
  expect_failures = [var.database]
}

run "production_cache_needs_a_replica" {
  command = plan
  variables {
    cache = { node_type = "cache.m7g.large", replicas = 0, snapshot_retention_days = 7 }
  }
  expect_failures = [var.cache]
}

run "production_nodes_are_on_demand_and_at_least_two" {
  command = plan
  variables {
    cluster = {
      kubernetes_version = "1.35"
      instance_types     = ["m7i.large"]
      capacity_type      = "SPOT"
      min_size           = 3
      desired_size       = 3
      max_size           = 6
    }
  }
  expect_failures = [var.cluster]
}

run "production_spreads_over_three_zones" {
  command = plan
  variables {
    network = { cidr = "10.20.0.0/16", az_count = 3, nat_gateway_per_az = false }
  }
  expect_failures = [var.network]
}

run "production_keeps_logical_backups_a_month" {
  command = plan
  variables {
    backups = { retention_days = 7 }
  }
  expect_failures = [var.backups]
}

run "network_must_be_a_slash_16" {
  command = plan
  variables {
    network = { cidr = "10.20.0.0/20", az_count = 3, nat_gateway_per_az = true }
  }
  expect_failures = [var.network]
}

run "environment_name_must_fit_aws_names" {
  command = plan
  variables {
    environment = "Prod_1"
  }
  expect_failures = [var.environment]
}
