# The Google service account MLflow (the server, the migration Job and the External Secrets SecretStore, all as
# the Kubernetes service account `mlflow`) runs as, with exactly the access it needs.

resource "google_service_account" "mlflow" {
  project      = var.project_id
  account_id   = var.service_account_id
  display_name = "MLflow ${var.environment}"
  description  = "MLflow tracking server of ${var.environment} (Workload Identity: ${var.namespace}/${var.kubernetes_service_account})"
}

# The Cloud SQL Auth Proxy sidecar connects as this account (cloudsql.instances.connect/get).
resource "google_project_iam_member" "mlflow_cloudsql_client" {
  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = "serviceAccount:${google_service_account.mlflow.email}"
}

# IAM database login (database_login = "iam"): cloudsql.instances.login, with which the proxy's --auto-iam-authn
# logs in to the database as this account. Not granted with password login.
resource "google_project_iam_member" "mlflow_cloudsql_instance_user" {
  count   = local.iam_login ? 1 : 0
  project = var.project_id
  role    = "roles/cloudsql.instanceUser"
  member  = "serviceAccount:${google_service_account.mlflow.email}"
}

# Objects of the artifact bucket only. roles/storage.objectUser has what MLflow's GCS artifact repository does
# (create, get, list and delete objects, resumable and multipart uploads) and not objectAdmin's object IAM/ACL
# permissions; MLflow never reads the bucket's own metadata (storage.buckets.get).
resource "google_storage_bucket_iam_member" "mlflow_artifacts" {
  bucket = google_storage_bucket.artifacts.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.mlflow.email}"
}

# Each secret individually, not a project-wide grant.
resource "google_secret_manager_secret_iam_member" "mlflow" {
  for_each  = google_secret_manager_secret.mlflow
  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.mlflow.email}"
}

# GKE Workload Identity: the Kubernetes service account NAMESPACE/NAME may impersonate this account.
resource "google_service_account_iam_member" "mlflow_workload_identity" {
  service_account_id = google_service_account.mlflow.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.namespace}/${var.kubernetes_service_account}]"
}
