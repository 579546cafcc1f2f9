#!/usr/bin/env bash
# Deploys one release of Groundwork to an environment: the contract the pipeline calls
# (infra/k8s/README.md "Deploying").
#
#   infra/k8s/deploy.sh [--dry-run] <staging|production|preview> <image-tag>
#
#   IMAGE_REGISTRY   where the images are, e.g. ghcr.io/acme (required)
#   PREVIEW_ID       preview only: the pull request number (123 or pr-123)
#   PREVIEW_DOMAIN   preview only: overrides previewDomain of overlays/preview
#   RENDER_ONLY=1    same as --dry-run: print the manifests, touch no cluster
#   SKIP_MIGRATIONS=1  roll out without running migrations (rollback.sh uses it)
#   MIGRATION_TIMEOUT, ROLLOUT_TIMEOUT, SECRETS_TIMEOUT  seconds (900, 600, 120)
#
# Steps: render the overlay with the images set; apply what the release runs on
# (namespace, config, secrets, PgBouncer, policies) and wait for it; run the migration Job
# and wait for it to succeed; only then apply the api, web and worker and wait for their
# rollout; record the release (current and previous tag) for rollback.sh.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  echo "usage: infra/k8s/deploy.sh [--dry-run] <staging|production|preview> <image-tag>" >&2
  echo "  env: IMAGE_REGISTRY (required), PREVIEW_ID (preview), RENDER_ONLY=1" >&2
  exit 2
}

render_only=${RENDER_ONLY:-0}
args=()
for arg in "$@"; do
  case $arg in
    --dry-run) render_only=1 ;;
    -h | --help) usage ;;
    -*) say "unknown option $arg" && usage ;;
    *) args+=("$arg") ;;
  esac
done
[[ ${#args[@]} -eq 2 ]] || usage
env_name=${args[0]}
tag=${args[1]}

case $env_name in
  staging | production | preview) ;;
  *) fail "unknown environment '$env_name' (staging, production or preview)" ;;
esac
# A tag names one build for good: a commit, never a moving name.
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
  fail "'$tag' is not an image tag (letters, digits, _ . -; at most 128)"
[[ $tag != latest ]] || fail "refusing the tag 'latest': deploy a commit's tag"
registry=${IMAGE_REGISTRY:-}
[[ -n $registry ]] || fail "IMAGE_REGISTRY is not set (e.g. ghcr.io/acme)"
registry=${registry%/}
[[ $registry =~ ^[a-z0-9]([a-z0-9.:-]*[a-z0-9])?(/[a-z0-9._-]+)*$ ]] ||
  fail "IMAGE_REGISTRY '$registry' is not a registry path (e.g. ghcr.io/acme)"

preview_id=
if [[ $env_name == preview ]]; then
  preview_id=${PREVIEW_ID:-}
  valid_preview_id "$preview_id" ||
    fail "PREVIEW_ID must be the pull request number (123 or pr-123), not '$preview_id'"
  preview_id=$(preview_number "$preview_id")
elif [[ -n ${PREVIEW_ID:-} ]]; then
  fail "PREVIEW_ID is for the preview environment only"
fi
namespace=$(namespace_of "$env_name" "$preview_id")
require_kubectl

# --- render -----------------------------------------------------------------------------
# kubectl has no `kustomize edit`: a kustomization of our own, beside the overlays (paths
# in a kustomization must be relative), sets the images and, for a preview, its namespace
# and hosts. It is removed on exit.
work=$(mktemp -d "$K8S_DIR/.render.XXXXXX")
trap 'rm -rf "$work"' EXIT
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  echo "  - ../overlays/$env_name"
  echo "images:"
  for app in api web worker; do
    echo "  - name: groundwork-$app"
    echo "    newName: $registry/groundwork-$app"
    echo "    newTag: \"$tag\""
  done
} >"$work/kustomization.yaml"

if [[ $env_name == preview ]]; then
  domain=${PREVIEW_DOMAIN:-$(sed -n 's/^  previewDomain: *//p' "$K8S_DIR/overlays/preview/environment.yaml")}
  [[ $domain =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$ ]] ||
    fail "the preview domain '$domain' is not a DNS name"
  mkdir "$work/preview"
  cat >"$work/preview/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - patch: |
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: environment}
      data:
        appHost: pr-$preview_id.$domain
        apiHost: pr-$preview_id-api.$domain
        appUrl: https://pr-$preview_id.$domain
        apiUrl: https://pr-$preview_id-api.$domain
EOF
  {
    echo "namespace: $namespace"
    # The values first, then the environment component copies them again.
    echo "components:"
    echo "  - preview"
    echo "  - ../components/environment"
  } >>"$work/kustomization.yaml"
fi

rendered="$work/rendered.yaml"
"$KUBECTL" kustomize "$work" >"$rendered" ||
  fail "could not render overlays/$env_name (kubectl kustomize failed above)"

if [[ $render_only == 1 ]]; then
  cat "$rendered"
  exit 0
fi

# --- apply ------------------------------------------------------------------------------
require_cluster
migration_timeout=${MIGRATION_TIMEOUT:-900}
rollout_timeout=${ROLLOUT_TIMEOUT:-600}
secrets_timeout=${SECRETS_TIMEOUT:-120}
k() { "$KUBECTL" --namespace "$namespace" "$@"; }
apply_phase() {
  k apply --server-side --force-conflicts --field-manager=groundwork-deploy \
    --filename "$rendered" --selector "groundwork.dev/deploy-phase=$1" --output name
}
wait_rollouts() {
  local object
  for object in "$@"; do
    case $object in
      deployment.apps/* | statefulset.apps/*)
        k rollout status "$object" --timeout "${rollout_timeout}s" >&2 ||
          return 1
        ;;
    esac
  done
}

previous=$(k get configmap "$RELEASE_CONFIGMAP" --ignore-not-found \
  --output 'jsonpath={.data.current}') ||
  fail "could not read the release record of $namespace"
say "deploying $tag to $namespace (running now: ${previous:-nothing})"

applied=$(apply_phase setup) || fail "applying the setup phase failed"
mapfile -t setup <<<"$applied"
k wait --for=condition=Ready --timeout "${secrets_timeout}s" \
  externalsecret/groundwork externalsecret/groundwork-pgbouncer >&2 ||
  fail "the secrets did not sync from the secret store within ${secrets_timeout}s (kubectl describe externalsecret --namespace $namespace)"
wait_rollouts "${setup[@]}" || fail "PgBouncer (or a preview's data) did not become ready"

if [[ ${SKIP_MIGRATIONS:-0} == 1 ]]; then
  say "skipping migrations (SKIP_MIGRATIONS=1)"
else
  # A Job's pod template cannot change: the previous release's Job goes first.
  k delete job groundwork-migrate --ignore-not-found --wait=true >&2
  apply_phase migrate >/dev/null || fail "applying the migration Job failed"
  deadline=$((SECONDS + migration_timeout))
  while :; do
    state=$(k get job groundwork-migrate \
      --output 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}') ||
      state=
    case " $state " in
      *" Complete "*) break ;;
      *" Failed "*)
        k logs job/groundwork-migrate --tail=100 >&2 || true
        fail "migrations failed (logs above): nothing of $tag was rolled out; ${previous:-nothing} keeps running"
        ;;
    esac
    ((SECONDS < deadline)) ||
      fail "migrations did not finish within ${migration_timeout}s: nothing of $tag was rolled out"
    sleep 5
  done
  say "migrations applied"
fi

applied=$(apply_phase rollout) || fail "applying the release failed"
mapfile -t rollout <<<"$applied"
wait_rollouts "${rollout[@]}" ||
  fail "the rollout of $tag did not complete; infra/k8s/rollback.sh $env_name returns to ${previous:-nothing}"

# The record rollback.sh reads. A redeploy of the running tag keeps the older previous.
if [[ -n $previous && $previous != "$tag" ]]; then
  before=$previous
else
  before=$(k get configmap "$RELEASE_CONFIGMAP" --ignore-not-found \
    --output 'jsonpath={.data.previous}')
fi
k create configmap "$RELEASE_CONFIGMAP" --dry-run=client --output yaml \
  --from-literal="current=$tag" --from-literal="previous=$before" \
  --from-literal="registry=$registry" --from-literal="deployedAt=$(date -u +%Y-%m-%dT%H:%M:%SZ)" |
  k apply --server-side --force-conflicts --field-manager=groundwork-deploy --filename - >/dev/null ||
  fail "deployed $tag, but could not record the release (rollback.sh will not know it)"
say "deployed $tag to $namespace (previous: ${before:-none})"
