#!/usr/bin/env bash
# Installs what mqttspec needs to build and test, only where it is missing, so a
# warm machine pays nothing.  Debian 12; apt-get as root (or sudo).
set -euo pipefail

PKGS=(build-essential pkg-config check libsubunit-dev libcjson-dev libssl-dev openssl
      libwslay-dev mosquitto mosquitto-clients clang llvm libclang-rt-14-dev libxml2-utils
      python3 python3-jsonschema)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# A system mosquitto must not start as a service: we run our own on loopback ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
