#!/bin/sh
# toa-lab: verify toa.ko for Ubuntu 20.04
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

[ -f /root/toa/toa.ko ] || die 1 "/root/toa/toa.ko is missing"
vermagic=$(modinfo -F vermagic /root/toa/toa.ko)
case "$vermagic" in
  "$(uname -r) "*) ;;
  *) die 1 "/root/toa/toa.ko does not match the running kernel: $vermagic" ;;
esac
