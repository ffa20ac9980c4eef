#!/bin/sh
# ensure-kube.sh makes sure the Kubernetes control plane the tests start is on
# this machine:
#
#   - kube-apiserver and kube-controller-manager, built from the Go module
#     proxy by the tool module in hack/kube (k8s.io/kubernetes at
#     KUBE_VERSION with every staging module pinned to its v0.x release),
#     cached outside the repository by version in
#     ${XDG_CACHE_HOME:-$HOME/.cache}/infergate/kube/<version>/;
#   - etcd, from Debian's etcd-server package.
#
# Idempotent: with the binaries cached and etcd installed it does nothing.
# The first build takes about 12 minutes on 2 cores; it runs at low CPU
# priority. Each binary is written under a temporary name and renamed, so an
# interrupted build never leaves a broken binary in the cache.
set -eu

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
CACHE="${INFERGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infergate}"
DEST="${INFERGATE_KUBE_BIN_DIR:-$CACHE/kube/$KUBE_VERSION}"
HERE="$(cd "$(dirname "$0")" && pwd)"
GO="${GO:-go}"

have() { command -v "$1" >/dev/null 2>&1; }

SUDO=
if [ "$(id -u)" -ne 0 ] && have sudo; then
	SUDO="sudo -n"
fi

module_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$HERE/kube/go.mod")"
if [ "$module_version" != "$KUBE_VERSION" ]; then
	echo "ensure-kube: hack/kube/go.mod requires k8s.io/kubernetes $module_version, expected $KUBE_VERSION" >&2
	exit 1
fi

major="$(echo "$KUBE_VERSION" | sed -E 's/^v([0-9]+)\..*/\1/')"
minor="$(echo "$KUBE_VERSION" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags="$ldflags -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

mkdir -p "$DEST"
for cmd in kube-apiserver kube-controller-manager; do
	if [ -x "$DEST/$cmd" ]; then
		continue
	fi
	echo "ensure-kube: building $cmd $KUBE_VERSION into $DEST (about 12 minutes the first time)"
	start="$(date +%s)"
	(cd "$HERE/kube" && nice -n 19 "$GO" build -trimpath -ldflags "$ldflags" \
		-o "$DEST/$cmd.tmp.$$" "k8s.io/kubernetes/cmd/$cmd")
	mv -f "$DEST/$cmd.tmp.$$" "$DEST/$cmd"
	echo "ensure-kube: built $cmd in $(($(date +%s) - start))s"
done

if ! have etcd && [ ! -x /usr/bin/etcd ]; then
	if ! have apt-get; then
		echo "ensure-kube: etcd missing and apt-get not available; install etcd 3.4+ by hand" >&2
		exit 1
	fi
	if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
		echo "ensure-kube: etcd missing; run as root or install Debian's 'etcd-server' package" >&2
		exit 1
	fi
	candidate="$(apt-cache policy etcd-server 2>/dev/null | awk '/Candidate:/ {print $2}')"
	if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
		echo "ensure-kube: apt-get update"
		$SUDO apt-get update -o DPkg::Lock::Timeout=600
	fi
	echo "ensure-kube: apt-get install etcd-server"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
		-o DPkg::Lock::Timeout=600 etcd-server
fi

# The package starts etcd as a system service where services may start; the
# tests start their own on free loopback ports and need no other.
if [ -d /run/systemd/system ] && have systemctl; then
	if systemctl is-enabled --quiet etcd 2>/dev/null || systemctl is-active --quiet etcd 2>/dev/null; then
		echo "ensure-kube: stopping and disabling the etcd system service"
		$SUDO systemctl disable --now etcd >/dev/null 2>&1 || true
	fi
elif [ -x /etc/init.d/etcd ]; then
	if /etc/init.d/etcd status >/dev/null 2>&1; then
		echo "ensure-kube: stopping the etcd system service"
		$SUDO /etc/init.d/etcd stop >/dev/null 2>&1 || true
	fi
fi
