#!/usr/bin/env bash
# Returns an environment to the release before the current one, in one step.
#
#   infra/k8s/rollback.sh <staging|production|preview>     (preview: PREVIEW_ID=<number>)
#
# Reads the release record deploy.sh keeps (ConfigMap groundwork-release: current and
# previous tag, registry) and redeploys the previous tag with deploy.sh, without running
# migrations: they only ever move forward, and each release's code works on the schema
# of the next (README "Rollback"). The record then names the rolled-back tag as previous,
# so a second rollback.sh goes forward again.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 1 ]] || {
  echo "usage: infra/k8s/rollback.sh <staging|production|preview>" >&2
  exit 2
}
env_name=$1
preview_id=
case $env_name in
  staging | production) ;;
  preview)
    preview_id=${PREVIEW_ID:-}
    valid_preview_id "$preview_id" ||
      fail "PREVIEW_ID must be the pull request number (123 or pr-123), not '$preview_id'"
    preview_id=$(preview_number "$preview_id")
    ;;
  *) fail "unknown environment '$env_name' (staging, production or preview)" ;;
esac
namespace=$(namespace_of "$env_name" "$preview_id")
require_kubectl
require_cluster

record() {
  "$KUBECTL" --namespace "$namespace" get configmap "$RELEASE_CONFIGMAP" --ignore-not-found \
    --output "jsonpath={.data.$1}"
}
current=$(record current) || fail "could not read the release record of $namespace"
previous=$(record previous)
[[ -n $current ]] || fail "$namespace has no release record: nothing was deployed there by deploy.sh"
[[ -n $previous ]] || fail "$namespace has no previous release to return to (running: $current)"
registry=${IMAGE_REGISTRY:-$(record registry)}

say "rolling $namespace back from $current to $previous"
IMAGE_REGISTRY=$registry SKIP_MIGRATIONS=1 PREVIEW_ID=$preview_id \
  "$K8S_DIR/deploy.sh" "$env_name" "$previous"
