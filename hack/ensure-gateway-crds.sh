#!/bin/sh
# ensure-gateway-crds.sh makes sure the CustomResourceDefinitions of the
# Gateway API (standard channel) and of Istio are on this machine, so the
# tests under test/kube apply deploy/'s Gateways, HTTPRoutes and Istio
# DestinationRules to a real API server that checks them against the
# projects' own schemas:
#
#   - sigs.k8s.io/gateway-api: config/crd/standard/*.yaml (its admission
#     policy file left out: CRDs only);
#   - istio.io/api: kubernetes/customresourcedefinitions.gen.yaml.
#
# Both modules are pinned by the tool module in hack/gateway-crds (its own
# go.mod; the main module never depends on them), downloaded through the Go
# module proxy and copied into
# ${XDG_CACHE_HOME:-$HOME/.cache}/infergate/crds/<module>-<version>/.
# Idempotent: with both directories in place it does nothing. Each directory
# is written under a temporary name and renamed, so an interrupted copy never
# leaves half a set.
#
# To move to other releases:
#   (cd hack/gateway-crds && go mod edit -require=sigs.k8s.io/gateway-api@vX.Y.Z && go mod download sigs.k8s.io/gateway-api)
#   and update GATEWAY_API_VERSION / ISTIO_API_VERSION in the Makefile and test/kube.
set -eu

CACHE="${INFERGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infergate}"
DEST="${INFERGATE_GATEWAY_CRDS:-$CACHE/crds}"
HERE="$(cd "$(dirname "$0")" && pwd)"
GO="${GO:-go}"

module_version() {
	awk -v m="$1" '{for (i = 1; i < NF; i++) if ($i == m && $(i+1) ~ /^v/) {print $(i+1); exit}}' "$HERE/gateway-crds/go.mod"
}

copy() { # copy <module> <expected version or ""> <name> <files relative to the module...>
	module="$1"
	want="$2"
	name="$3"
	shift 3
	version="$(module_version "$module")"
	if [ -z "$version" ]; then
		echo "ensure-gateway-crds: hack/gateway-crds/go.mod does not require $module" >&2
		exit 1
	fi
	if [ -n "$want" ] && [ "$want" != "$version" ]; then
		echo "ensure-gateway-crds: hack/gateway-crds/go.mod has $module $version, expected $want" >&2
		exit 1
	fi
	out="$DEST/$name-$version"
	if [ -d "$out" ]; then
		return 0
	fi
	dir="$(cd "$HERE/gateway-crds" && "$GO" mod download -json "$module" | awk -F'"' '$2 == "Dir" {print $4}')"
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		echo "ensure-gateway-crds: could not download $module $version" >&2
		exit 1
	fi
	mkdir -p "$DEST"
	tmp="$out.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	for f in "$@"; do
		for g in "$dir"/$f; do
			cp "$g" "$tmp/"
		done
	done
	chmod -R u+w "$tmp"
	mv "$tmp" "$out"
	echo "ensure-gateway-crds: copied $module $version CRDs into $out"
}

copy sigs.k8s.io/gateway-api "${GATEWAY_API_VERSION:-}" gateway-api 'config/crd/standard/gateway.networking.k8s.io_[!v]*.yaml'
copy istio.io/api "${ISTIO_API_VERSION:-}" istio-api kubernetes/customresourcedefinitions.gen.yaml
