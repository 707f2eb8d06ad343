# The dev environment's cloud side: the module in ../.. with dev's values. Apply it, then feed its outputs to
# config/dev.yaml:
#   terraform -chdir=terraform/examples/dev output -json | npm run import-terraform -- --env dev --outputs -
# The values mirror config/dev.yaml (placeholder project ids); test/terraform/module.test.ts checks that.

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
  #   bucket = "example-mlflow-dev-tfstate"
  #   prefix = "mlflow"
  # }
}

provider "google" {
  project = "example-mlflow-dev"
  region  = "europe-west1"
}

module "mlflow" {
  source = "../.."

  project_id  = "example-mlflow-dev"
  region      = "europe-west1"
  environment = "dev"
  network_id  = "projects/example-mlflow-dev/global/networks/gke-dev"
  namespace   = "mlflow"

  tier              = "db-custom-1-3840"
  availability_type = "ZONAL"
  disk_size_gb      = 20
  max_connections   = 400

  artifact_bucket_name = "example-mlflow-dev-artifacts"

  # config/dev.yaml's clients (by name, with their namespaces) and served models.
  clients = {
    iris-trainer   = { namespace = "ml-training" }
    iris-predictor = { namespace = "ml-apps" }
  }
  serving = ["iris"]
}
