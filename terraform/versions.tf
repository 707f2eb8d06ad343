# Provider and Terraform versions this module is written against. The exact provider builds are recorded by
# `terraform init` in the root module's .terraform.lock.hcl (see examples/): commit that file there.
terraform {
  # Nothing newer than 1.5 is used (validation blocks refer only to their own variable).
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Written against the 7.x resource schemas (7.45 is the newest release reviewed); 8.0 changed defaults and
      # types of some arguments, so a major upgrade is a reviewed change, not a side effect of `init -upgrade`.
      version = ">= 7.45.0, < 8.0.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.8.0, < 4.0.0"
    }
  }
}
