# Exactly the outputs of TERRAFORM_CONTRACT (tools/terraform/contract.ts), in its order: `npm run import-terraform`
# writes them into config/<env>.yaml. Identifiers only, none sensitive (the import refuses sensitive outputs):
# secret *ids*, never a secret value.
#
# Terraform outputs have no type argument; each value is wrapped in tostring()/tonumber() so the contract's type
# is stated here (test/terraform/module.test.ts compares it) and a plan fails if an attribute's type changes.

output "project_id" {
  description = "GCP project of the cluster, the Cloud SQL instance, the bucket and the secrets (gcp.projectId)."
  value       = tostring(var.project_id)
  sensitive   = false
}

output "region" {
  description = "Region of the Cloud SQL instance (gcp.region)."
  value       = tostring(google_sql_database_instance.mlflow.region)
  sensitive   = false
}

output "mlflow_service_account_email" {
  description = "Google service account the `mlflow` Kubernetes service account impersonates (gcp.serviceAccountEmail)."
  value       = tostring(google_service_account.mlflow.email)
  sensitive   = false
}

output "cloudsql_instance_connection_name" {
  description = "project:region:instance of the Cloud SQL instance (database.instanceConnectionName)."
  value       = tostring(google_sql_database_instance.mlflow.connection_name)
  sensitive   = false
}

output "database_name" {
  description = "The database MLflow owns (database.name)."
  value       = tostring(google_sql_database.mlflow.name)
  sensitive   = false
}

output "database_engine" {
  description = "The Cloud SQL engine, mysql or postgres (database.engine)."
  value       = tostring(var.database_engine)
  sensitive   = false
}

output "database_login" {
  description = "How MLflow logs in to the database, password or iam (database.login)."
  value       = tostring(var.database_login)
  sensitive   = false
}

# Null with IAM login: there is no database user or password secret then.
output "database_user_secret_id" {
  description = "Secret Manager secret id holding the database user name (database.userSecret); null with database_login = iam."
  value       = tostring(try(google_secret_manager_secret.mlflow["db_user"].secret_id, null))
  sensitive   = false
}

output "database_password_secret_id" {
  description = "Secret Manager secret id holding the database password (database.passwordSecret); null with database_login = iam."
  value       = tostring(try(google_secret_manager_secret.mlflow["db_password"].secret_id, null))
  sensitive   = false
}

output "cloudsql_max_connections" {
  description = "The instance's max_connections flag (database.maxConnections)."
  value       = tonumber(var.max_connections)
  sensitive   = false
}

output "artifact_bucket" {
  description = "GCS bucket for artifacts, without gs:// (artifacts.bucket)."
  value       = tostring(google_storage_bucket.artifacts.name)
  sensitive   = false
}

output "flask_secret_key_secret_id" {
  description = "Secret Manager secret id of basic-auth's Flask session key (auth.flaskSecretKeySecret)."
  value       = tostring(google_secret_manager_secret.mlflow["flask_secret_key"].secret_id)
  sensitive   = false
}

output "admin_username_secret_id" {
  description = "Secret Manager secret id of the MLflow admin user name (auth.adminUsernameSecret)."
  value       = tostring(google_secret_manager_secret.mlflow["admin_username"].secret_id)
  sensitive   = false
}

output "admin_password_secret_id" {
  description = "Secret Manager secret id of the MLflow admin password (auth.adminPasswordSecret)."
  value       = tostring(google_secret_manager_secret.mlflow["admin_password"].secret_id)
  sensitive   = false
}

output "metrics_password_secret_id" {
  description = "Secret Manager secret id of the metrics scraper's MLflow password (auth.metricsPasswordSecret)."
  value       = tostring(google_secret_manager_secret.mlflow["metrics_password"].secret_id)
  sensitive   = false
}

output "smoke_password_secret_id" {
  description = "Secret Manager secret id of the PostSync smoke test user's MLflow password (auth.smokePasswordSecret)."
  value       = tostring(google_secret_manager_secret.mlflow["smoke_password"].secret_id)
  sensitive   = false
}

# Keyed by clients[].name / serving[].name: the import writes each value into the entry of that name.
output "client_password_secret_ids" {
  description = "Secret Manager secret id of each client's MLflow password, by client name (clients[].passwordSecret)."
  value       = tomap({ for name, s in google_secret_manager_secret.client : name => s.secret_id })
  sensitive   = false
}

output "client_service_account_emails" {
  description = "Google service account each client's SecretStore reads its password as, by client name (clients[].serviceAccountEmail)."
  value       = tomap({ for name, a in google_service_account.client : name => a.email })
  sensitive   = false
}

output "serving_password_secret_ids" {
  description = "Secret Manager secret id of each served model's MLflow password, by serving name (serving[].passwordSecret)."
  value       = tomap({ for name, s in google_secret_manager_secret.serving : name => s.secret_id })
  sensitive   = false
}
