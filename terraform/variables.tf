# Everything that differs between environments is a variable; examples/<env>/ sets them per environment.
# Values marked "lands in config" are outputs that `npm run import-terraform` writes into config/<env>.yaml.

variable "project_id" {
  description = "GCP project of the environment (lands in config: gcp.projectId)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "region" {
  description = "Region of the Cloud SQL instance, the bucket (unless artifact_bucket_location is set) and the cluster (lands in config: gcp.region)."
  type        = string
}

variable "environment" {
  description = "Environment name, as in config/<environment>.yaml; prefixes the instance name and the secret ids (mlflow-<environment>-...)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.environment))
    error_message = "environment must be a lowercase letter, then lowercase letters, digits or '-' (the config file name)."
  }
}

variable "network_id" {
  description = "Id (projects/P/global/networks/N) of the cluster's VPC. Private services access must already be set up on it (google_service_networking_connection): the instance gets a private IP only."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of MLflow: config/<env>.yaml's `namespace`. Part of the Workload Identity member."
  type        = string
  default     = "mlflow"
}

variable "kubernetes_service_account" {
  description = "Kubernetes service account the MLflow pods and the External Secrets SecretStore run as. The synthesized manifests create it as `mlflow`."
  type        = string
  default     = "mlflow"
}

variable "service_account_id" {
  description = "account_id of the Google service account MLflow impersonates (lands in config: gcp.serviceAccountEmail, as <id>@<project>.iam.gserviceaccount.com)."
  type        = string
  default     = "mlflow-server"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.service_account_id))
    error_message = "service_account_id must be 6-30 lowercase letters, digits or '-', starting with a letter."
  }
}

# --- Cloud SQL ------------------------------------------------------------------------------------------------

variable "database_engine" {
  description = "Cloud SQL engine: mysql (Cloud SQL for MySQL) or postgres (Cloud SQL for PostgreSQL) (lands in config: database.engine)."
  type        = string
  default     = "mysql"
  validation {
    condition     = contains(["mysql", "postgres"], var.database_engine)
    error_message = "database_engine must be mysql or postgres."
  }
}

variable "database_version" {
  description = "Cloud SQL major version of database_engine. Default: MYSQL_8_0 for mysql, POSTGRES_16 for postgres."
  type        = string
  default     = null
  validation {
    condition     = var.database_version == null || contains(["MYSQL_8_0", "MYSQL_8_4", "POSTGRES_14", "POSTGRES_15", "POSTGRES_16", "POSTGRES_17"], var.database_version)
    error_message = "database_version must be MYSQL_8_0 or MYSQL_8_4 (mysql), or POSTGRES_14 to POSTGRES_17 (postgres): the versions this project's migration checks support."
  }
}

variable "database_login" {
  description = "How MLflow logs in to the database (lands in config: database.login): password (a built-in user, its generated password in Secret Manager) or iam (the Cloud SQL Auth Proxy's automatic IAM database authentication as the Google service account: no password, no database secrets)."
  type        = string
  default     = "password"
  validation {
    condition     = contains(["password", "iam"], var.database_login)
    error_message = "database_login must be password or iam."
  }
}

variable "edition" {
  description = "Cloud SQL edition. ENTERPRISE takes db-custom-* tiers; ENTERPRISE_PLUS takes db-perf-optimized-N-* tiers. Set explicitly: the API's default differs between MySQL versions."
  type        = string
  default     = "ENTERPRISE"
  validation {
    condition     = contains(["ENTERPRISE", "ENTERPRISE_PLUS"], var.edition)
    error_message = "edition must be ENTERPRISE or ENTERPRISE_PLUS."
  }
}

variable "tier" {
  description = "Machine tier of the instance (e.g. db-custom-2-7680: 2 vCPU, 7.5 GiB)."
  type        = string
}

variable "availability_type" {
  description = "ZONAL (one zone) or REGIONAL (high availability with a standby in another zone)."
  type        = string
  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.availability_type)
    error_message = "availability_type must be ZONAL or REGIONAL."
  }
}

variable "disk_size_gb" {
  description = "Initial SSD size in GB; the disk grows automatically."
  type        = number
  default     = 20
}

variable "max_connections" {
  description = "The instance's max_connections database flag (lands in config: database.maxConnections; `npm run synth` checks the connection budget against it)."
  type        = number
  validation {
    condition     = var.max_connections >= 20 && var.max_connections <= 100000 && floor(var.max_connections) == var.max_connections
    error_message = "max_connections must be a whole number from 20 to 100000."
  }
}

variable "backup_start_time" {
  description = "Start of the daily backup window (HH:MM, UTC)."
  type        = string
  default     = "02:00"
}

variable "retained_backups" {
  description = "Number of daily backups kept."
  type        = number
  default     = 7
}

variable "transaction_log_retention_days" {
  description = "Days of binary logs kept for point-in-time recovery (1-7)."
  type        = number
  default     = 7
  validation {
    condition     = var.transaction_log_retention_days >= 1 && var.transaction_log_retention_days <= 7
    error_message = "transaction_log_retention_days must be from 1 to 7."
  }
}

variable "maintenance_window" {
  description = "Weekly maintenance window: day (1 = Monday … 7 = Sunday) and hour (UTC)."
  type = object({
    day  = number
    hour = number
  })
  default = { day = 7, hour = 3 }
}

variable "database_name" {
  description = "The database MLflow owns (lands in config: database.name)."
  type        = string
  default     = "mlflow"
}

variable "database_user" {
  description = "The built-in database user MLflow connects as with database_login = password; stored in Secret Manager with its generated password. Unused with iam."
  type        = string
  default     = "mlflow"
}

# --- Artifacts ------------------------------------------------------------------------------------------------

variable "artifact_bucket_name" {
  description = "Name of the artifact bucket, globally unique (lands in config: artifacts.bucket)."
  type        = string
}

variable "artifact_bucket_location" {
  description = "Location of the artifact bucket. Default: var.region."
  type        = string
  default     = null
}

variable "noncurrent_version_retention_days" {
  description = "Days a replaced or deleted artifact version is kept before the lifecycle rule deletes it."
  type        = number
  default     = 30
}

variable "noncurrent_versions_kept" {
  description = "Noncurrent versions of one object kept at most (older ones are deleted at once)."
  type        = number
  default     = 3
}

# --- Auth -----------------------------------------------------------------------------------------------------

variable "admin_username" {
  description = "MLflow basic-auth admin user name, stored in Secret Manager (its password is generated)."
  type        = string
  default     = "admin"
}

variable "labels" {
  description = "Labels added to the instance, the bucket and the secrets."
  type        = map(string)
  default     = {}
}

# --- Clients and served models --------------------------------------------------------------------------------

variable "clients" {
  description = "In-cluster clients of the server by name (config/<env>.yaml clients[].name), each with the namespace it runs in. Each gets a generated MLflow password in a Secret Manager secret, and a Google service account that may read only that secret, impersonated by the Kubernetes service account mlflow-<environment>-<name> of its namespace (lands in config: clients[].passwordSecret, clients[].serviceAccountEmail)."
  type        = map(object({ namespace = string }))
  default     = {}
  validation {
    condition     = alltrue([for name, c in var.clients : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", name)) && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", c.namespace))])
    error_message = "Each client name and namespace must be an RFC 1123 label (lowercase letters, digits, '-'), as in config/<env>.yaml."
  }
}

variable "serving" {
  description = "Names of the models served beside the server (config/<env>.yaml serving[].name). Each gets a generated MLflow password in a Secret Manager secret the server's service account reads (lands in config: serving[].passwordSecret)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for name in var.serving : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", name))])
    error_message = "Each serving name must be an RFC 1123 label (lowercase letters, digits, '-'), as in config/<env>.yaml."
  }
}
