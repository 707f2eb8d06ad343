# The cloud side of one MLflow environment: Cloud SQL for MySQL, the artifact bucket, the Secret Manager secrets
# and the Google service account MLflow runs as. Its outputs (outputs.tf) are exactly the contract in
# lib/terraform/contract.ts; test/terraform-module.test.ts checks both sides and the properties below.

locals {
  name   = "mlflow-${var.environment}"
  labels = merge({ app = "mlflow", environment = var.environment, managed-by = "terraform" }, var.labels)
}

# --- Cloud SQL for MySQL --------------------------------------------------------------------------------------

resource "google_sql_database_instance" "mlflow" {
  project          = var.project_id
  name             = local.name
  region           = var.region
  database_version = var.database_version

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
    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    # Daily backups and binary logs: point-in-time recovery, e.g. to before a forward-only MLflow migration.
    backup_configuration {
      enabled                        = true
      binary_log_enabled             = true
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

    # With binary logging on, MLflow's migrations that create triggers fail with MySQL error 1419 unless this is
    # on: Cloud SQL users never get SUPER. The migration Job checks it and names the flag.
    database_flags {
      name  = "log_bin_trust_function_creators"
      value = "on"
    }
    # The same variable is the cloudsql_max_connections output: the config's connection budget is checked
    # against exactly this number.
    database_flags {
      name  = "max_connections"
      value = tostring(var.max_connections)
    }
  }
}

resource "google_sql_database" "mlflow" {
  project  = var.project_id
  instance = google_sql_database_instance.mlflow.name
  name     = var.database_name
  charset  = "utf8mb4"
}

resource "google_sql_user" "mlflow" {
  project  = var.project_id
  instance = google_sql_database_instance.mlflow.name
  name     = var.database_user
  host     = "%"
  password = random_password.generated["db_password"].result
}

# --- Artifact bucket ------------------------------------------------------------------------------------------

resource "google_storage_bucket" "artifacts" {
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
