#!/usr/bin/env bash
# Installs the system packages the build needs (OpenBLAS, libpng, zlib, pkg-config) when missing.
# Debian/Ubuntu; uses sudo when not root. Sourced by the other scripts.
set -euo pipefail
needed=()
for pkg in libopenblas-dev libpng-dev zlib1g-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
if [ ${#needed[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "error: missing system packages ${needed[*]} and no apt-get here; install OpenBLAS, libpng and zlib development files by hand." >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${needed[*]} ..." >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${needed[@]}" >/dev/null
fi
