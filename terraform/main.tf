# The cloud side of one MLflow environment: Cloud SQL for MySQL or PostgreSQL, the artifact bucket, the Secret Manager secrets
# and the Google service account MLflow runs as. Its outputs (outputs.tf) are exactly the contract in
# tools/terraform/contract.ts; test/terraform/module.test.ts checks both sides and the properties below.

locals {
  name   = "mlflow-${var.environment}"
  labels = merge({ app = "mlflow", environment = var.environment, managed-by = "terraform" }, var.labels)

  mysql            = var.database_engine == "mysql"
  password_login   = var.database_login == "password"
  iam_login        = var.database_login == "iam"
  database_version = coalesce(var.database_version, { mysql = "MYSQL_8_0", postgres = "POSTGRES_16" }[var.database_engine])

  # The database flags per engine, in this order. MySQL: with binary logging on (backups/PITR), MLflow's
  # migrations that create triggers fail with error 1419 unless log_bin_trust_function_creators is on (Cloud SQL
  # users never get SUPER; the migration Job checks it and names the flag). Both: max_connections is the same
  # variable as the cloudsql_max_connections output, so the config's connection budget is checked against exactly
  # this number. IAM login: the engine's IAM authentication flag.
  engine_flags = {
    mysql    = [{ name = "log_bin_trust_function_creators", value = "on" }]
    postgres = []
  }
  iam_flag = {
    mysql    = "cloudsql_iam_authentication"
    postgres = "cloudsql.iam_authentication"
  }
  database_flags = concat(
    local.engine_flags[var.database_engine],
    [{ name = "max_connections", value = tostring(var.max_connections) }],
    local.iam_login ? [{ name = local.iam_flag[var.database_engine], value = "on" }] : [],
  )

  # The database user name Cloud SQL gives the service account under IAM database authentication, per engine (the
  # name the manifests log in as: iamDatabaseUser in lib/mlflow/database-access.ts; a test compares the two):
  # MySQL keeps the part before '@', PostgreSQL the email without ".gserviceaccount.com".
  iam_database_users = {
    mysql    = split("@", google_service_account.mlflow.email)[0]
    postgres = trimsuffix(google_service_account.mlflow.email, ".gserviceaccount.com")
  }
  iam_database_user = local.iam_database_users[var.database_engine]
}

# --- Cloud SQL ------------------------------------------------------------------------------------------------

resource "google_sql_database_instance" "mlflow" {
  project          = var.project_id
  name             = local.name
  region           = var.region
  database_version = local.database_version

  # Terraform refuses to destroy the instance, and so does the Cloud SQL API (settings below): MLflow's runs,
  # registry and auth users live here. Set both to false in a reviewed change to delete it.
  deletion_protection = true

  settings {
    tier                        = var.tier
    edition                     = var.edition
    availability_type           = var.availability_type
    disk_type                   = "PD_SSD"
    disk_size                   = var.disk_size_gb
    disk_autoresize             = true
    deletion_protection_enabled = true
    user_labels                 = local.labels

    # Private IP only: the Cloud SQL Auth Proxy sidecar connects over the VPC (config: database.privateIp: true).
    # TLS with a client certificate on every connection: the proxy (the only client the manifests use) always
    # presents one, so a client that bypasses it is refused.
    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
      ssl_mode        = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    # Daily backups and point-in-time recovery (MySQL: binary logs; PostgreSQL: write-ahead logs), e.g. to before
    # a forward-only MLflow migration: the migration Job logs a restore point and its clone command before its first
    # change, for the runbook of docs/migration.md ("Interrupted upgrade").
    backup_configuration {
      enabled                        = true
      binary_log_enabled             = local.mysql ? true : null
      point_in_time_recovery_enabled = local.mysql ? null : true
      start_time                     = var.backup_start_time
      transaction_log_retention_days = var.transaction_log_retention_days
      backup_retention_settings {
        retained_backups = var.retained_backups
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = var.maintenance_window.day
      hour         = var.maintenance_window.hour
      update_track = "stable"
    }

    dynamic "database_flags" {
      for_each = local.database_flags
      content {
        name  = database_flags.value.name
        value = database_flags.value.value
      }
    }
  }

  lifecycle {
    precondition {
      condition     = startswith(local.database_version, local.mysql ? "MYSQL_" : "POSTGRES_")
      error_message = "database_version ${local.database_version} is not a version of database_engine ${var.database_engine}."
    }
  }
}

resource "google_sql_database" "mlflow" {
  project  = var.project_id
  instance = google_sql_database_instance.mlflow.name
  name     = var.database_name
  charset  = local.mysql ? "utf8mb4" : "UTF8"
}

# Password login: a built-in user with the generated password (stored in Secret Manager, secrets.tf).
resource "google_sql_user" "mlflow" {
  count    = local.password_login ? 1 : 0
  project  = var.project_id
  instance = google_sql_database_instance.mlflow.name
  name     = var.database_user
  host     = local.mysql ? "%" : null
  password = random_password.generated["db_password"].result
}

# IAM login: the service account as an IAM database user; the proxy's --auto-iam-authn logs in as it (with
# roles/cloudsql.instanceUser, iam.tf). Cloud SQL for MySQL takes the full email and keeps the part before '@';
# PostgreSQL takes the email without ".gserviceaccount.com". An IAM user gets no database privileges of its own:
# cloudsqlsuperuser is what the built-in user of password login has (MLflow creates and migrates its tables).
resource "google_sql_user" "mlflow_iam" {
  count          = local.iam_login ? 1 : 0
  project        = var.project_id
  instance       = google_sql_database_instance.mlflow.name
  name           = local.mysql ? google_service_account.mlflow.email : local.iam_database_user
  type           = "CLOUD_IAM_SERVICE_ACCOUNT"
  database_roles = ["cloudsqlsuperuser"]

  lifecycle {
    precondition {
      condition     = length(local.iam_database_user) <= (local.mysql ? 32 : 63)
      error_message = "The IAM database user ${local.iam_database_user} is longer than ${var.database_engine} accepts (32 characters on MySQL, 63 on PostgreSQL): choose a shorter service_account_id."
    }
  }
}

# --- Artifact bucket ------------------------------------------------------------------------------------------

resource "google_storage_bucket" "artifacts" {
  #checkov:skip=CKV_GCP_62:Access is recorded by Cloud Audit Logs, the method Google recommends over usage logs (Data Access logs of Cloud Storage are a project setting: docs/testing.md); usage logs would need a second bucket
  project       = var.project_id
  name          = var.artifact_bucket_name
  location      = coalesce(var.artifact_bucket_location, var.region)
  storage_class = "STANDARD"
  labels        = local.labels
  force_destroy = false

  # IAM only (no object ACLs), and never public whatever IAM says.
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # A deleted or overwritten artifact stays recoverable as a noncurrent version for a while.
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }
  lifecycle_rule {
    condition {
      num_newer_versions = var.noncurrent_versions_kept
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }
}
