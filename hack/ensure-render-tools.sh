#!/bin/sh
# ensure-render-tools.sh makes sure the manifest renderers the tests under
# test/kube run are on this machine:
#
#   - kustomize (sigs.k8s.io/kustomize/kustomize/v5) and
#   - helm (helm.sh/helm/v4/cmd/helm),
#
# built from the Go module proxy by the tool module in hack/render (its own
# go.mod, so the main module never depends on them) and cached outside the
# repository as ${XDG_CACHE_HOME:-$HOME/.cache}/infergate/bin/<tool>-<version>.
#
# Idempotent: with both binaries cached it does nothing. The first build takes
# a few minutes on 2 cores and runs at low CPU priority. Each binary is written
# under a temporary name and renamed, so an interrupted build never leaves a
# broken binary in the cache.
#
# The versions are read from hack/render/go.mod; the Makefile passes the ones
# it expects (KUSTOMIZE_VERSION, HELM_VERSION) and this script refuses to run
# when they disagree, so the cached file names never lie.
set -eu

CACHE="${INFERGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infergate}"
DEST="${INFERGATE_TOOLS_BIN:-$CACHE/bin}"
HERE="$(cd "$(dirname "$0")" && pwd)"
GO="${GO:-go}"

module_version() {
	awk -v m="$1" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$HERE/render/go.mod"
}

kustomize_version="$(module_version sigs.k8s.io/kustomize/kustomize/v5)"
helm_version="$(module_version helm.sh/helm/v4)"
if [ -z "$kustomize_version" ] || [ -z "$helm_version" ]; then
	echo "ensure-render-tools: hack/render/go.mod must require sigs.k8s.io/kustomize/kustomize/v5 and helm.sh/helm/v4" >&2
	exit 1
fi
for pair in "KUSTOMIZE_VERSION:$kustomize_version" "HELM_VERSION:$helm_version"; do
	var="${pair%%:*}"
	have="${pair#*:}"
	eval "want=\"\${$var:-$have}\""
	if [ "$want" != "$have" ]; then
		echo "ensure-render-tools: hack/render/go.mod has $have, expected $var=$want" >&2
		exit 1
	fi
done

build() { # build <name> <version> <package> <ldflags>
	out="$DEST/$1-$2"
	if [ -x "$out" ]; then
		return 0
	fi
	mkdir -p "$DEST"
	echo "ensure-render-tools: building $1 $2 into $out (a few minutes the first time)"
	start="$(date +%s)"
	(cd "$HERE/render" && nice -n 19 "$GO" build -trimpath -ldflags "$4" -o "$out.tmp.$$" "$3")
	mv -f "$out.tmp.$$" "$out"
	echo "ensure-render-tools: built $1 in $(($(date +%s) - start))s"
}

build kustomize "$kustomize_version" sigs.k8s.io/kustomize/kustomize/v5 \
	"-s -w -X sigs.k8s.io/kustomize/api/provenance.version=$kustomize_version"
build helm "$helm_version" helm.sh/helm/v4/cmd/helm \
	"-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version"
