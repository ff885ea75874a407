#!/usr/bin/env bash
# scripts/install-test-deps.sh — installs the Debian packages listed in scripts/debian-packages that
# are missing (idempotent: does nothing, and needs no privilege, when all are present).
# Installing needs root or a password-less sudo; otherwise it names the packages and the command.
# Usage: scripts/install-test-deps.sh
set -euo pipefail
# RADLEDGER_DEBIAN_PACKAGES overrides the list only for the installer's own test.
LIST="${RADLEDGER_DEBIAN_PACKAGES:-$(dirname "$0")/debian-packages}"
missing=()
while read -r pkg; do
  case "$pkg" in ''|'#'*) continue ;; esac
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done <"$LIST"
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "install-test-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-test-deps: install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq >&2
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
