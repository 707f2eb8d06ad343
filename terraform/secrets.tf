# Secret Manager holds every credential; Terraform outputs only the secret ids. The External Secrets Operator
# reads each secret's `latest` version as the `mlflow` Kubernetes service account (Workload Identity).

locals {
  # Secret ids, as config/<env>.yaml names them (the *_secret_id outputs). The database user and password exist
  # with password login only: IAM login has no database password.
  secret_ids = merge(local.database_secret_ids[var.database_login], local.app_secret_ids)
  database_secret_ids = {
    password = {
      db_user     = "${local.name}-db-user"
      db_password = "${local.name}-db-password"
    }
    iam = {}
  }
  app_secret_ids = {
    flask_secret_key = "${local.name}-flask-secret-key"
    admin_username   = "${local.name}-admin-username"
    admin_password   = "${local.name}-admin-password"
    metrics_password = "${local.name}-metrics-password"
    smoke_password   = "${local.name}-smoke-password"
  }
  # What each secret holds (the database ones null with IAM login, where they have no secret). Kept apart from
  # secret_ids: for_each must not iterate over sensitive values.
  secret_values = {
    db_user          = one(google_sql_user.mlflow[*].name)
    db_password      = try(random_password.generated["db_password"].result, null)
    flask_secret_key = random_password.generated["flask_secret_key"].result
    admin_username   = var.admin_username
    admin_password   = random_password.generated["admin_password"].result
    metrics_password = random_password.generated["metrics_password"].result
    smoke_password   = random_password.generated["smoke_password"].result
  }
}

locals {
  # Generated passwords and their lengths: the database password with password login only.
  password_lengths = merge(local.database_password_lengths[var.database_login], local.app_password_lengths)
  database_password_lengths = {
    password = { db_password = 32 }
    iam      = {}
  }
  app_password_lengths = {
    flask_secret_key = 64
    admin_password   = 32
    metrics_password = 32
    smoke_password   = 32
  }
}

# Alphanumeric (special = false) by choice: any printable ASCII would work, as the ExternalSecret templates encode
# it for the SQLAlchemy URL and basic-auth's ini (docs/terraform-contract.md). The values are in the Terraform state
# (keep the state bucket private) and in Secret Manager, never in an output.
resource "random_password" "generated" {
  for_each = local.password_lengths
  length   = each.value
  special  = false
}

resource "google_secret_manager_secret" "mlflow" {
  for_each  = local.secret_ids
  project   = var.project_id
  secret_id = each.value
  labels    = local.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "mlflow" {
  for_each    = local.secret_ids
  secret      = google_secret_manager_secret.mlflow[each.key].id
  secret_data = local.secret_values[each.key]
}
