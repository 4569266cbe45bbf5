#!/usr/bin/env bash
# Installs what the accessibility tests (internal/a11y) need: Debian's
# Chromium, Liberation fonts (metric-compatible with Arial, the council font
# stack) and the npm packages of web/assets (axe-core among them).
#
# Idempotent and quick when everything is present: apt is only touched when a
# package is missing, and npm ci only runs when node_modules is older than
# package-lock.json.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need=()
for pkg in chromium fonts-liberation; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		need+=("$pkg")
	fi
done

if ((${#need[@]} > 0)); then
	sudo=""
	if [[ $(id -u) -ne 0 ]]; then
		sudo="sudo"
	fi
	echo "install-browser: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

assets="$root/web/assets"
stamp="$assets/node_modules/.package-lock.json"
if [[ ! -f "$stamp" || "$assets/package-lock.json" -nt "$stamp" ]]; then
	echo "install-browser: npm ci in web/assets"
	(cd "$assets" && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium missing')"
