variable "name" {
  description = "Name prefix (groundwork-<environment>); the bucket is <name>-backups-<account id>."
  type        = string
}

variable "backups" {
  description = "The settings module's backups output: days an object is kept."
  type = object({
    retention_days = number
  })
}

variable "kms_key_arn" {
  description = "KMS key that encrypts every object."
  type        = string
}
