#!/bin/sh
# gen-crds.sh regenerates the deepcopy functions of the API types in api/ and
# the CRD manifests in deploy/crds/ with controller-gen, fetched from the Go
# module proxy at a pinned version (`go run pkg@version` never touches the
# main go.mod). Run it after changing anything under api/; the CRD test in
# test/kube fails when deploy/crds/ is stale.
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
