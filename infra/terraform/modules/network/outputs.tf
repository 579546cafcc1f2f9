output "vpc_id" {
  description = "The VPC's id."
  value       = module.vpc.vpc_id
}

output "vpc_cidr" {
  description = "The VPC's CIDR."
  value       = module.vpc.vpc_cidr_block
}

output "private_subnet_ids" {
  description = "Subnets of the EKS nodes (egress through NAT)."
  value       = module.vpc.private_subnets
}

output "public_subnet_ids" {
  description = "Subnets of internet-facing load balancers and the NAT gateways."
  value       = module.vpc.public_subnets
}

output "database_subnet_ids" {
  description = "Subnets of RDS and ElastiCache (no internet route)."
  value       = module.vpc.database_subnets
}
