# In-cluster clients and served models (config/<env>.yaml clients[] and serving[]): each logs in to MLflow as a user
# of its own, whose password the module generates into a Secret Manager secret of its own, like the smoke and
# metrics passwords. The MLflow service account reads each (the migration Job creates and rotates the users).
# A client's password is also read in the client's namespace, by a Google service account of its own that may read
# that one secret and nothing else, impersonated through Workload Identity by the Kubernetes service account synth
# renders there (lib/names.ts clientObjectName: mlflow-<environment>-<client>). No service account key is created.

resource "random_password" "client" {
  for_each = var.clients
  length   = 32
  special  = false
}

resource "google_secret_manager_secret" "client" {
  for_each  = var.clients
  project   = var.project_id
  secret_id = "${local.name}-client-${each.key}-password"
  labels    = local.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "client" {
  for_each    = var.clients
  secret      = google_secret_manager_secret.client[each.key].id
  secret_data = random_password.client[each.key].result
}

# The migration Job, as the MLflow service account, sets the client's password.
resource "google_secret_manager_secret_iam_member" "mlflow_client" {
  for_each  = google_secret_manager_secret.client
  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.mlflow.email}"
}

resource "google_service_account" "client" {
  for_each     = var.clients
  project      = var.project_id
  account_id   = "${local.name}-c-${each.key}"
  display_name = "MLflow ${var.environment} client ${each.key}"
  description  = "Reads the MLflow password of client ${each.key} (Workload Identity: ${each.value.namespace}/${local.name}-${each.key})"

  lifecycle {
    precondition {
      condition     = length("${local.name}-c-${each.key}") <= 30
      error_message = "The service account id ${local.name}-c-${each.key} of client ${each.key} is longer than 30 characters: choose a shorter client name."
    }
  }
}

# That one secret only.
resource "google_secret_manager_secret_iam_member" "client" {
  for_each  = var.clients
  project   = var.project_id
  secret_id = google_secret_manager_secret.client[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.client[each.key].email}"
}

# GKE Workload Identity: the client's Kubernetes service account (NAMESPACE/mlflow-<environment>-<client>) may
# impersonate its Google service account.
resource "google_service_account_iam_member" "client_workload_identity" {
  for_each           = var.clients
  service_account_id = google_service_account.client[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${each.value.namespace}/${local.name}-${each.key}]"
}

resource "random_password" "serving" {
  for_each = toset(var.serving)
  length   = 32
  special  = false
}

resource "google_secret_manager_secret" "serving" {
  for_each  = toset(var.serving)
  project   = var.project_id
  secret_id = "${local.name}-serving-${each.key}-password"
  labels    = local.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "serving" {
  for_each    = toset(var.serving)
  secret      = google_secret_manager_secret.serving[each.key].id
  secret_data = random_password.serving[each.key].result
}

# Read by the server namespace's SecretStore, which reads Secret Manager as the MLflow service account (the serving
# pods' own Kubernetes service account has no Google identity): the MLflow service account reads it, nothing else.
resource "google_secret_manager_secret_iam_member" "mlflow_serving" {
  for_each  = google_secret_manager_secret.serving
  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.mlflow.email}"
}
