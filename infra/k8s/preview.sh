#!/usr/bin/env bash
# Preview environments, one per pull request (README "Preview environments").
#
#   infra/k8s/preview.sh up <pull-request> <image-tag>   deploy.sh preview, PREVIEW_ID set
#   (a pull request is its number, 123, or pr-123)
#   infra/k8s/preview.sh down <pull-request>             delete its namespace and database
#   infra/k8s/preview.sh list                            the previews that exist
#
# --dry-run (or RENDER_ONLY=1): up prints the manifests, down prints what it would delete.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: infra/k8s/preview.sh [--dry-run] up <pull-request> <image-tag> | down <pull-request> | list" >&2
  exit 2
}
dry_run=${RENDER_ONLY:-0}
args=()
for arg in "$@"; do
  case $arg in
    --dry-run) dry_run=1 ;;
    -h | --help) usage ;;
    -*) say "unknown option $arg" && usage ;;
    *) args+=("$arg") ;;
  esac
done
[[ ${#args[@]} -ge 1 ]] || usage

case ${args[0]} in
  up)
    [[ ${#args[@]} -eq 3 ]] || usage
    valid_preview_id "${args[1]}" || fail "'${args[1]}' is not a pull request number (123 or pr-123)"
    RENDER_ONLY=$dry_run PREVIEW_ID=${args[1]} exec "$K8S_DIR/deploy.sh" preview "${args[2]}"
    ;;
  down)
    [[ ${#args[@]} -eq 2 ]] || usage
    valid_preview_id "${args[1]}" || fail "'${args[1]}' is not a pull request number (123 or pr-123)"
    number=$(preview_number "${args[1]}")
    namespace=$(namespace_of preview "$number")
    if [[ $dry_run == 1 ]]; then
      echo "would delete namespace $namespace (with its Postgres volume) if labelled groundwork.dev/preview=true"
      exit 0
    fi
    require_kubectl
    require_cluster
    exists=$("$KUBECTL" get namespace "$namespace" --ignore-not-found --output name) ||
      fail "could not read namespace $namespace"
    if [[ -z $exists ]]; then
      say "no preview for pull request $number ($namespace does not exist)"
      exit 0
    fi
    label=$("$KUBECTL" get namespace "$namespace" \
      --output 'jsonpath={.metadata.labels.groundwork\.dev/preview}')
    # Only a namespace this script's deploy created: never staging, production or anything
    # else that happens to have the name.
    [[ $label == true ]] || fail "$namespace is not a preview (no groundwork.dev/preview=true label); not deleting it"
    # The namespace takes everything in it: the Postgres StatefulSet deletes its volume
    # claim (persistentVolumeClaimRetentionPolicy), the claim its volume.
    "$KUBECTL" delete namespace "$namespace" --wait=true --timeout=10m >&2 ||
      fail "deleting $namespace did not finish within 10 minutes"
    say "deleted the preview of pull request $number ($namespace)"
    ;;
  list)
    [[ ${#args[@]} -eq 1 ]] || usage
    require_kubectl
    require_cluster
    "$KUBECTL" get namespaces --selector groundwork.dev/preview=true
    ;;
  *) usage ;;
esac
