#!/bin/sh
# ensure-jaeger.sh makes sure the Jaeger binary the tracing tests start is on
# this machine: the all-in-one `jaeger` (v2, an OpenTelemetry Collector
# distribution) built from the Go module proxy by the tool module in
# hack/jaeger, cached outside the repository by version as
# ${XDG_CACHE_HOME:-$HOME/.cache}/infergate/bin/jaeger-<version>.
#
# `go install github.com/jaegertracing/jaeger/cmd/jaeger@<version>` fails:
# Jaeger's go.mod has a replace directive, which hack/jaeger/go.mod copies.
#
# Idempotent: with the binary cached it does nothing. The first build takes
# about 3 minutes on 2 cores (121 MB); it runs at low CPU priority and writes
# under a temporary name that is renamed, so an interrupted build never
# leaves a broken binary in the cache.
set -eu

JAEGER_VERSION="${JAEGER_VERSION:-v1.75.0}"
CACHE="${INFERGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infergate}"
DEST="${INFERGATE_JAEGER:-$CACHE/bin/jaeger-$JAEGER_VERSION}"
HERE="$(cd "$(dirname "$0")" && pwd)"
GO="${GO:-go}"

module_version="$(awk '$1 == "github.com/jaegertracing/jaeger" && $2 ~ /^v/ {print $2; exit}' "$HERE/jaeger/go.mod")"
if [ "$module_version" != "$JAEGER_VERSION" ]; then
	echo "ensure-jaeger: hack/jaeger/go.mod requires jaeger $module_version, expected $JAEGER_VERSION" >&2
	exit 1
fi
if [ -x "$DEST" ]; then
	exit 0
fi
mkdir -p "$(dirname "$DEST")"
echo "ensure-jaeger: building jaeger $JAEGER_VERSION into $DEST (about 3 minutes the first time)"
start="$(date +%s)"
(cd "$HERE/jaeger" && nice -n 19 "$GO" build -trimpath -ldflags "-s -w" \
	-o "$DEST.tmp.$$" github.com/jaegertracing/jaeger/cmd/jaeger)
mv -f "$DEST.tmp.$$" "$DEST"
echo "ensure-jaeger: built jaeger in $(($(date +%s) - start))s"
