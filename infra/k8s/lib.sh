# Shared by deploy.sh, rollback.sh and preview.sh (sourced, never run).
# shellcheck shell=bash

# Used by the scripts that source this file.
# shellcheck disable=SC2034
K8S_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUBECTL=${KUBECTL:-kubectl}
# shellcheck disable=SC2034
RELEASE_CONFIGMAP=groundwork-release

fail() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

say() {
  echo "$(basename "$0"): $*" >&2
}

require_kubectl() {
  command -v "$KUBECTL" >/dev/null 2>&1 ||
    fail "kubectl not found (KUBECTL=$KUBECTL): install kubectl 1.30 or later"
}

# A pull request number, bare or as pr-<number>: digits, no leading zero, at most nine
# of them (a namespace name stays short, and the id cannot smuggle anything into a command).
valid_preview_id() {
  [[ $1 =~ ^(pr-)?[1-9][0-9]{0,8}$ ]]
}

# The number of a valid preview id (123 of pr-123).
preview_number() {
  echo "${1#pr-}"
}

# The namespace an environment (and, for a preview, its pull request) runs in.
namespace_of() {
  case $1 in
    staging) echo groundwork-staging ;;
    production) echo groundwork-production ;;
    preview) echo "groundwork-pr-$2" ;;
    *) return 1 ;;
  esac
}

# Stops early, with the context's name, when the cluster does not answer: every later
# step would fail with a less useful message.
require_cluster() {
  local context
  context=$("$KUBECTL" config current-context 2>/dev/null || echo "none")
  "$KUBECTL" version --request-timeout=15s >/dev/null 2>&1 ||
    fail "cannot reach the cluster (kubectl context: $context); check KUBECONFIG and the context"
}
