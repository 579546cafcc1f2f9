locals {
  name = "groundwork-${var.environment}"

  # Subnets carved out of the /16, the same way in every environment:
  #   private  (nodes and pods)       10.x.0.0/20, 10.x.16.0/20, 10.x.32.0/20
  #   public   (load balancers, NAT)  10.x.48.0/24 ...
  #   database (RDS, ElastiCache)     10.x.56.0/24 ... no route to the internet
  private_subnets  = [for i in range(var.network.az_count) : cidrsubnet(var.network.cidr, 4, i)]
  public_subnets   = [for i in range(var.network.az_count) : cidrsubnet(var.network.cidr, 8, 48 + i)]
  database_subnets = [for i in range(var.network.az_count) : cidrsubnet(var.network.cidr, 8, 56 + i)]
}
