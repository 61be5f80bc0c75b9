#!/usr/bin/env bash
# Releases ONE service on its own: builds its image tagged with that service's own version (its
# crate's `version`), optionally pushes it, and rolls out only its Deployment. Migrations run in
# the Deployment's `migrate` init container before the new version serves; the other services'
# images and pods are untouched.
#
#   scripts/release.sh <service> [--push] [--deploy] [--dry-run]
#     service   foundation | service-management | order-workflow | analytics-monitoring | gateway
#     --push    push the image to $CRM_REGISTRY (default registry.example.com)
#     --deploy  point the running Deployment at the new image (namespace $CRM_NAMESPACE, default
#               bantu-crm) and wait for its rollout; record the tag in k8s/overlays/prod
#     --dry-run print the commands instead of running them
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n 2,13p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
service=$1; shift
case "$service" in
  foundation|service-management|order-workflow|analytics-monitoring) dir=crates/$service ;;
  gateway) dir=gateway ;;
  *) echo "unknown service: $service" >&2; usage ;;
esac
package=crm-$service
[ -f "$dir/Cargo.toml" ] || { echo "$dir/Cargo.toml not found" >&2; exit 1; }
push=false deploy=false run=
for arg in "$@"; do
  case "$arg" in
    --push) push=true ;;
    --deploy) deploy=true ;;
    --dry-run) run=echo ;;
    *) usage ;;
  esac
done
version=$(awk -F'"' '/^version *=/ {print $2; exit}' "$dir/Cargo.toml")
[ -n "$version" ] || { echo "$dir/Cargo.toml has no version of its own" >&2; exit 1; }
registry=${CRM_REGISTRY:-registry.example.com}
namespace=${CRM_NAMESPACE:-bantu-crm}
image=$registry/bantu/$package:$version
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

echo "releasing $package $version ($commit) as $image"
$run docker build -f deploy/Dockerfile --build-arg PACKAGE="$package" --build-arg CRM_BUILD_COMMIT="$commit" -t "$image" .
if $push; then
  $run docker push "$image"
fi
if $deploy; then
  # The init container migrates with the same image, so both are set together.
  $run kubectl -n "$namespace" set image "deployment/$package" "migrate=$image" "${service}=$image" 2>/dev/null \
    || $run kubectl -n "$namespace" set image "deployment/$package" "${service}=$image"
  $run kubectl -n "$namespace" rollout status "deployment/$package" --timeout=10m
  # Keep the overlay in step with what runs, so the next `kubectl apply -k` does not roll it back.
  $run sed -i "s|\(name: bantu/$package, newName: [^,]*, newTag: \)\"[^\"]*\"|\1\"$version\"|" k8s/overlays/prod/kustomization.yaml
fi
