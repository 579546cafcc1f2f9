# What each in-cluster component may do in AWS, and nothing more. The namespaces and
# service account names are the ones the Helm charts and infra/k8s use; the association
# binds the role to exactly that service account. KEDA needs none: its Redis scaler
# authenticates with the password External Secrets already put in the app's Secret.

data "aws_iam_policy_document" "external_secrets" {
  statement {
    sid       = "ReadThisEnvironmentsSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = var.secret_arns
  }
  statement {
    sid       = "DecryptThem"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

module "external_secrets_identity" {
  source = "../workload-identity"

  name            = "${var.name}-external-secrets"
  cluster_name    = module.eks.cluster_name
  namespace       = "external-secrets"
  service_account = "external-secrets"
  policy_json     = data.aws_iam_policy_document.external_secrets.json
}

# The backup CronJob writes dumps to the backup bucket and the restore drill reads them
# back. It may not delete: old backups expire by the bucket's lifecycle rule only.
data "aws_iam_policy_document" "backup" {
  statement {
    sid       = "ListTheBucket"
    actions   = ["s3:ListBucket"]
    resources = [var.backup_bucket_arn]
  }
  statement {
    sid       = "WriteAndReadBackups"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = ["${var.backup_bucket_arn}/*"]
  }
  statement {
    sid       = "EncryptAndDecryptThem"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

module "backup_identity" {
  source = "../workload-identity"

  name            = "${var.name}-backup"
  cluster_name    = module.eks.cluster_name
  namespace       = var.app_namespace
  service_account = "groundwork-backup"
  policy_json     = data.aws_iam_policy_document.backup.json
}

# The AWS Load Balancer Controller turns the Ingress into an ALB. Its policy is the
# upstream one, kept current by the community pod identity module.
module "load_balancer_controller_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "~> 2.6"

  name            = "${var.name}-lb-controller"
  use_name_prefix = false

  attach_aws_lb_controller_policy = true

  associations = {
    this = {
      cluster_name    = module.eks.cluster_name
      namespace       = "kube-system"
      service_account = "aws-load-balancer-controller"
    }
  }
}
