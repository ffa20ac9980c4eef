#!/bin/sh
# gen-crds.sh regenerates the deepcopy functions of the API types in api/ and
# the CRD manifests in deploy/crds/ with controller-gen, fetched from the Go
# module proxy at a pinned version (`go run pkg@version` never touches the
# main go.mod). Run it after changing anything under api/; the CRD test in
# test/kube fails when deploy/crds/ is stale.
#
# It also copies the CRDs into the Helm chart's crds/ directory: Helm packages
# only files inside the chart (a symlink to deploy/crds would not survive
# `helm package`), so the chart carries a copy, and test/kube fails when the
# copy differs from deploy/crds/. Add a new CRD file to deploy/crds/Kustomization
# too.
set -eu

CONTROLLER_TOOLS_VERSION="${CONTROLLER_TOOLS_VERSION:-v0.23.0}"
cd "$(dirname "$0")/.."

controller_gen() {
	nice -n 19 go run "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION" "$@"
}

controller_gen object paths=./api/...
rm -f deploy/crds/*.yaml
controller_gen crd:crdVersions=v1 paths=./api/... output:crd:dir=deploy/crds
gofmt -w api
rm -f deploy/helm/infergate/crds/*.yaml
cp deploy/crds/*.yaml deploy/helm/infergate/crds/
