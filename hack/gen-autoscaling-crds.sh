#!/bin/sh
# gen-autoscaling-crds.sh copies KEDA's ScaledObject CRD from KEDA's Go
# module (the version below, fetched through the Go module proxy; v2.21
# needs Go 1.27) into
# test/kube/testdata/autoscaling-crds, where test/kube installs it into its
# test control plane, so the ScaledObjects in deploy/ are checked by a real
# API server against KEDA's schema. To move to another KEDA release, change
# the version and run: sh hack/gen-autoscaling-crds.sh
set -eu

cd "$(dirname "$0")/.."
module=github.com/kedacore/keda/v2
version=v2.20.2
out=test/kube/testdata/autoscaling-crds/keda.sh_scaledobjects.yaml
dir="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$dir" ]; then
	echo "gen-autoscaling-crds: could not download $module@$version" >&2
	exit 1
fi
{
	echo "# Copied by hack/gen-autoscaling-crds.sh from $module@$version"
	echo "# (config/crd/bases/keda.sh_scaledobjects.yaml). DO NOT EDIT."
	cat "$dir/config/crd/bases/keda.sh_scaledobjects.yaml"
} >"$out.tmp"
mv -f "$out.tmp" "$out"
echo "gen-autoscaling-crds: wrote $out"
