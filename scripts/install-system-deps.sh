#!/usr/bin/env bash
# Installs the Debian packages that the kiosk's card readers and the tests need:
#   pcscd, libpcsclite-dev (before npm ci: nfc-pcsc compiles against it),
#   vsmartcard-vpcd (the virtual reader driver the card tests use), pcsc-tools,
#   chromium (browser tests and the browser kiosk window),
#   systemd (systemd-analyze: the kiosk's unit file is verified in a test).
# Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools chromium systemd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${packages[*]})"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "system packages: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
