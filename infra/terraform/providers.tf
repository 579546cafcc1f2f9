provider "aws" {
  region = var.aws_region
  # Credentials for another account (staging's, say) make every plan fail here instead
  # of changing the wrong environment.
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = module.settings.tags
  }
}
