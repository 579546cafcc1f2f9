variable "name" {
  description = "Name prefix (groundwork-<environment>)."
  type        = string
}

variable "network" {
  description = "The settings module's network output: cidr, az_count, nat_gateway_per_az and the derived subnet CIDRs."
  type = object({
    cidr               = string
    az_count           = number
    nat_gateway_per_az = bool
    private_subnets    = list(string)
    public_subnets     = list(string)
    database_subnets   = list(string)
  })
}
