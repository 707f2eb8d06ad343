# The prod environment's cloud side: the module in ../.. with prod's values. Apply it, then feed its outputs to
# config/prod.yaml:
#   terraform -chdir=terraform/examples/prod output -json | npm run import-terraform -- --env prod --outputs -
# The values mirror config/prod.yaml (placeholder project ids); test/terraform/module.test.ts checks that.

terraform {
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "7.45.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "3.8.0"
    }
  }

  # Keep the state remote and private: it holds the generated passwords (they are never outputs).
  # backend "gcs" {
  #   bucket = "example-mlflow-prod-tfstate"
  #   prefix = "mlflow"
  # }
}

provider "google" {
  project = "example-mlflow-prod"
  region  = "europe-west1"
}

module "mlflow" {
  source = "../.."

  project_id  = "example-mlflow-prod"
  region      = "europe-west1"
  environment = "prod"
  network_id  = "projects/example-mlflow-prod/global/networks/gke-prod"
  namespace   = "mlflow"

  tier              = "db-custom-4-15360"
  availability_type = "REGIONAL"
  disk_size_gb      = 100
  max_connections   = 1000

  artifact_bucket_name = "example-mlflow-prod-artifacts"
}
