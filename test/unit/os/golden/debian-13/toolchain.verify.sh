#!/bin/sh
# toa-lab: verify toolchain for Debian 13 (trixie)
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

for tool in gcc make; do
  command -v "$tool" >/dev/null 2>&1 || die 1 "$tool is not installed"
done
release=$(uname -r)
[ -f "/lib/modules/$release/build/Makefile" ] ||
  die 3 "no kernel-devel package for $release (/lib/modules/$release/build/Makefile is missing)"
