# EKS with one managed node group, through the community EKS module. Workloads get AWS
# access through EKS Pod Identity (identities.tf), so no OIDC provider (IRSA) is made.
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = var.name
  kubernetes_version = var.cluster.kubernetes_version

  vpc_id     = var.vpc_id
  subnet_ids = var.subnet_ids

  # The deploy pipeline runs outside the VPC: the API endpoint is public, limited to
  # these networks, and every caller still needs an access entry below.
  endpoint_public_access       = true
  endpoint_private_access      = true
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs

  # Admins are exactly the listed principals: the one running Terraform needs no
  # Kubernetes access (no Kubernetes provider here), and listing it twice would clash.
  enable_irsa                              = false
  enable_cluster_creator_admin_permissions = false
  access_entries = {
    for index, arn in var.admin_principal_arns : "admin-${index}" => {
      principal_arn = arn
      policy_associations = {
        admin = {
          policy_arn   = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
          access_scope = { type = "cluster" }
        }
      }
    }
  }

  enabled_log_types = ["api", "audit", "authenticator"]

  addons = {
    vpc-cni                = { before_compute = true }
    eks-pod-identity-agent = { before_compute = true }
    coredns                = {}
    kube-proxy             = {}
    # Resource metrics for HorizontalPodAutoscalers (KEDA makes one per ScaledObject).
    metrics-server = {}
  }

  eks_managed_node_groups = {
    default = {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.cluster.instance_types
      capacity_type  = var.cluster.capacity_type
      min_size       = var.cluster.min_size
      desired_size   = var.cluster.desired_size
      max_size       = var.cluster.max_size
    }
  }
}
