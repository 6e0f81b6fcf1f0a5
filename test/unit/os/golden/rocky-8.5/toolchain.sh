#!/bin/sh
# toa-lab: toolchain for Rocky Linux 8.5
# Rendered by harness/os; run as root. Exit codes: 1 failure,
# 3 no kernel development package, 4 precondition not met.
set -eu
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export PATH

die() {
  code=$1
  shift
  echo "toa-lab: $*" >&2
  exit "$code"
}

# Package manager: dnf.
pkg_installed() {
  rpm -q "$1" >/dev/null 2>&1
}
pkg_refresh() {
  :
}
# Once per script, and not fatal: cached lists may still do.
pkg_refreshed=no
pkg_refresh_once() {
  [ "$pkg_refreshed" = yes ] && return 0
  pkg_refreshed=yes
  pkg_refresh || echo "toa-lab: refreshing the package lists failed; using the cached ones" >&2
}
pkg_available() {
  timeout 300 dnf -q -y list --available "$1" >/dev/null
}
pkg_install() {
  timeout 1800 dnf -y install "$@"
}

set --
release=$(uname -r)
# As the guide writes it: kernel-devel-$(uname -r)
devel_pkg="kernel-devel-${release}"
if ! pkg_installed "$devel_pkg"; then
  pkg_refresh_once
  pkg_available "$devel_pkg" || die 3 "no kernel-devel package for $release ($devel_pkg is not installed and dnf cannot provide it)"
  set -- "$devel_pkg"
fi
for pkg in gcc make; do
  pkg_installed "$pkg" || set -- "$@" "$pkg"
done
if [ "$#" -gt 0 ]; then
  pkg_refresh_once
  echo "toa-lab: installing $*"
  pkg_install "$@" || die 1 "installing $* with dnf failed"
else
  echo "toa-lab: toolchain already installed"
fi
[ -f "/lib/modules/$release/build/Makefile" ] ||
  die 3 "no kernel-devel package for $release (/lib/modules/$release/build/Makefile is missing with $devel_pkg installed)"
for tool in gcc make; do
  command -v "$tool" >/dev/null 2>&1 || die 1 "$tool is not on PATH after installing it"
done
