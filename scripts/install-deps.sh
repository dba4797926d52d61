#!/usr/bin/env bash
# Installs the system packages the build needs (OpenBLAS, libpng, zlib, pkg-config) when missing.
# Debian/Ubuntu (apt-get). It says what it installs before it does; as a user other than root it
# asks sudo, which may prompt for a password. Elsewhere it names what to install by hand.
# Sourced by the other scripts.
set -euo pipefail
needed=()
if command -v dpkg >/dev/null; then
  for pkg in libopenblas-dev libpng-dev zlib1g-dev pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
  done
elif pkg-config --exists openblas libpng zlib 2>/dev/null; then
  exit 0   # not Debian, but pkg-config finds all three
else
  echo "error: this is not a Debian or Ubuntu system, and pkg-config does not find OpenBLAS, libpng and zlib; install their development files (e.g. Fedora: dnf install openblas-devel libpng-devel zlib-devel pkgconf; Arch: pacman -S openblas libpng zlib pkgconf), or build in the container (docs/container.md)." >&2
  exit 1
fi
if [ ${#needed[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "error: missing system packages ${needed[*]} and no apt-get here; install OpenBLAS, libpng and zlib development files by hand." >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "error: missing system packages ${needed[*]}; install them as root: apt-get install ${needed[*]}" >&2
      exit 1
    fi
    sudo="sudo"
  fi
  echo "install-deps: installing the missing system packages ${needed[*]} with ${sudo:+sudo }apt-get (apt-get update, then apt-get install)." >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${needed[@]}" >/dev/null
fi
