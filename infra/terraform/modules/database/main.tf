resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name        = "${var.name}-postgres"
  description = "PostgreSQL, reachable from the EKS nodes only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "from_nodes" {
  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL from the EKS nodes"
  referenced_security_group_id = var.client_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_db_parameter_group" "this" {
  # A prefix, so a replacement (a new family for the next major version) is created
  # before the old group is let go.
  name_prefix = "${var.name}-postgres18-"
  family      = "postgres18"
  description = "Groundwork on PostgreSQL 18"

  # Clients must use TLS (the URLs in Secrets Manager ask for verify-full).
  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }

  # Sized for PgBouncer: replicas x pool_size x 2 logins, plus room for migrations,
  # backups and operators (the settings module refuses less). Static: takes a reboot.
  parameter {
    name         = "max_connections"
    value        = tostring(var.database.max_connections)
    apply_method = "pending-reboot"
  }

  # Slow statements show up in the PostgreSQL log (exported to CloudWatch).
  parameter {
    name         = "log_min_duration_statement"
    value        = "1000"
    apply_method = "immediate"
  }

  # Locks held longer than a second are logged with who waited for whom.
  parameter {
    name         = "log_lock_waits"
    value        = "1"
    apply_method = "immediate"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# The owner login: runs migrations (and creates the app's and worker's logins from
# their URLs), and the backup job. Letters and digits only, so URLs need no escaping.
resource "random_password" "owner" {
  length  = 40
  special = false
}

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = "postgres"
  engine_version = "18"
  # "18" lets RDS apply minor versions in the maintenance window; engine_version_actual
  # says which one runs.
  auto_minor_version_upgrade = true
  instance_class             = var.database.instance_class
  parameter_group_name       = aws_db_parameter_group.this.name

  db_name  = "groundwork"
  username = "groundwork_owner"
  password = random_password.owner.result
  port     = 5432

  allocated_storage     = var.database.allocated_storage
  max_allocated_storage = var.database.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  multi_az               = var.database.multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  # Automated backups: daily snapshots plus the WAL in between, which is what
  # point-in-time recovery replays (to any second within the retention).
  backup_retention_period  = var.database.backup_retention_days
  backup_window            = "02:00-03:00"
  maintenance_window       = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot    = true
  delete_automated_backups = false

  deletion_protection       = var.database.deletion_protection
  skip_final_snapshot       = var.database.skip_final_snapshot
  final_snapshot_identifier = "${var.name}-final"

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]

  # Changes wait for the maintenance window unless applied by hand.
  apply_immediately = false
}
