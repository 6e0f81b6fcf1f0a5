#!/bin/sh
# toa-lab: verify toa is loaded on Debian 11 (bullseye)
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

grep -q '^toa ' /proc/modules || die 1 "the toa module is not loaded"
echo "toa-lab: toa is loaded"
