#!/bin/sh
# ensure-prometheus.sh installs Debian's prometheus package (prometheus and
# promtool) when either binary is missing, and makes sure the package's own
# system service is not running: the tests start their own Prometheus on a free
# loopback port, and 9090 is the gateway's metrics port.
#
# Idempotent: with both binaries present it only checks the service. It uses
# apt only (never downloads from other sites); `apt-get update` runs once, and
# only when apt does not know the package yet. The dpkg lock timeout lets it
# wait for another apt run on the same machine.
set -eu

have() { command -v "$1" >/dev/null 2>&1; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if have sudo; then
		SUDO="sudo -n"
	fi
fi

if ! have prometheus || ! have promtool; then
	if ! have apt-get; then
		echo "ensure-prometheus: prometheus/promtool missing and apt-get not available; install Prometheus 2.x by hand" >&2
		exit 1
	fi
	if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
		echo "ensure-prometheus: prometheus/promtool missing; run as root or install the 'prometheus' package" >&2
		exit 1
	fi
	candidate="$(apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/ {print $2}')"
	if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
		echo "ensure-prometheus: apt-get update"
		$SUDO apt-get update -o DPkg::Lock::Timeout=600
	fi
	echo "ensure-prometheus: apt-get install prometheus"
	# Recommends would pull in prometheus-node-exporter, another service the
	# tests do not need.
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
		-o DPkg::Lock::Timeout=600 prometheus
fi

# The package starts "prometheus" as a service where services may start (on
# :9090, the gateway's default port). Nothing of ours uses it; stop and
# disable it. Where no init system runs (containers), policy-rc.d usually
# kept it from starting and there is nothing to do.
if [ -d /run/systemd/system ] && have systemctl; then
	if systemctl is-enabled --quiet prometheus 2>/dev/null || systemctl is-active --quiet prometheus 2>/dev/null; then
		echo "ensure-prometheus: stopping and disabling the prometheus system service"
		$SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
	fi
elif [ -x /etc/init.d/prometheus ]; then
	if /etc/init.d/prometheus status >/dev/null 2>&1; then
		echo "ensure-prometheus: stopping the prometheus system service"
		$SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
	fi
	if have update-rc.d; then
		$SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
	fi
fi

promtool --version 2>&1 | head -n 1
