# Every module output, re-exported unchanged: `terraform output -json` prints the root module's outputs.
# One file for every example: prod/outputs.tf is a symbolic link to this one (Terraform reads it like any .tf file).

output "project_id" {
  value     = module.mlflow.project_id
  sensitive = false
}

output "region" {
  value     = module.mlflow.region
  sensitive = false
}

output "mlflow_service_account_email" {
  value     = module.mlflow.mlflow_service_account_email
  sensitive = false
}

output "cloudsql_instance_connection_name" {
  value     = module.mlflow.cloudsql_instance_connection_name
  sensitive = false
}

output "database_name" {
  value     = module.mlflow.database_name
  sensitive = false
}

output "database_engine" {
  value     = module.mlflow.database_engine
  sensitive = false
}

output "database_login" {
  value     = module.mlflow.database_login
  sensitive = false
}

output "database_user_secret_id" {
  value     = module.mlflow.database_user_secret_id
  sensitive = false
}

output "database_password_secret_id" {
  value     = module.mlflow.database_password_secret_id
  sensitive = false
}

output "cloudsql_max_connections" {
  value     = module.mlflow.cloudsql_max_connections
  sensitive = false
}

output "artifact_bucket" {
  value     = module.mlflow.artifact_bucket
  sensitive = false
}

output "flask_secret_key_secret_id" {
  value     = module.mlflow.flask_secret_key_secret_id
  sensitive = false
}

output "admin_username_secret_id" {
  value     = module.mlflow.admin_username_secret_id
  sensitive = false
}

output "admin_password_secret_id" {
  value     = module.mlflow.admin_password_secret_id
  sensitive = false
}

output "metrics_password_secret_id" {
  value     = module.mlflow.metrics_password_secret_id
  sensitive = false
}

output "smoke_password_secret_id" {
  value     = module.mlflow.smoke_password_secret_id
  sensitive = false
}

output "client_password_secret_ids" {
  value     = module.mlflow.client_password_secret_ids
  sensitive = false
}

output "client_service_account_emails" {
  value     = module.mlflow.client_service_account_emails
  sensitive = false
}

output "serving_password_secret_ids" {
  value     = module.mlflow.serving_password_secret_ids
  sensitive = false
}
