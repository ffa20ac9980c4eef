#!/usr/bin/env bash
# ensure-chromium.sh installs Debian's chromium (and a font) for the
# dashboard's headless-browser test when it is missing. Idempotent: it does
# nothing when chromium is on PATH. It refreshes the package lists only when
# apt does not know the package or an install from stale lists fails, and
# waits up to 10 minutes for a dpkg lock held by another installer (other
# `make test` steps may run apt at the same time).
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "ensure-chromium: chromium is missing and this is not root; install Debian's chromium package" >&2
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600)
install() {
	apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
}
if ! apt-cache show chromium >/dev/null 2>&1; then
	apt-get "${apt_opts[@]}" update -qq
fi
if ! install; then
	apt-get "${apt_opts[@]}" update -qq
	install
fi
command -v chromium >/dev/null
echo "ensure-chromium: installed $(chromium --version 2>/dev/null || echo chromium)"
