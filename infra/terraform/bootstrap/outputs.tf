output "bucket" {
  description = "The state bucket: put it in environments/<env>/backend.hcl."
  value       = aws_s3_bucket.state.id
}
