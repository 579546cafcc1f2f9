data "aws_availability_zones" "available" {
  state = "available"
  # Regular zones only: Local and Wavelength zones lack RDS, ElastiCache and EKS nodes.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

# The community VPC module most AWS teams already know. Private subnets hold the nodes
# (egress through NAT), public ones only load balancers and NAT gateways, and the
# database subnets hold RDS and ElastiCache with no route to the internet at all.
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 6.0"

  name = var.name
  cidr = var.network.cidr
  azs  = slice(data.aws_availability_zones.available.names, 0, var.network.az_count)

  private_subnets  = var.network.private_subnets
  public_subnets   = var.network.public_subnets
  database_subnets = var.network.database_subnets

  enable_nat_gateway     = true
  single_nat_gateway     = !var.network.nat_gateway_per_az
  one_nat_gateway_per_az = var.network.nat_gateway_per_az

  enable_dns_hostnames = true
  enable_dns_support   = true

  # The database and cache modules make their own subnet groups.
  create_database_subnet_group           = false
  create_database_subnet_route_table     = true
  create_database_internet_gateway_route = false
  create_database_nat_gateway_route      = false

  # Where the AWS Load Balancer Controller may put internet-facing and internal load balancers.
  public_subnet_tags  = { "kubernetes.io/role/elb" = "1" }
  private_subnet_tags = { "kubernetes.io/role/internal-elb" = "1" }

  # Nothing may use the default security group (it allows all traffic between its members).
  manage_default_security_group  = true
  default_security_group_ingress = []
  default_security_group_egress  = []
}
