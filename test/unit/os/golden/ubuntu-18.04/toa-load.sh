#!/bin/sh
# toa-lab: load toa on Ubuntu 18.04
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

[ -f /root/toa/toa.ko ] || die 4 "/root/toa/toa.ko is missing: run toa-build first"
if grep -q '^toa ' /proc/modules; then
  # Left by an earlier run: insmod would fail with "File exists".
  rmmod toa || die 1 "toa is already loaded and cannot be removed"
fi
before=$(dmesg | grep -c 'TOA: toa loaded' || true)
insmod /root/toa/toa.ko || {
  dmesg | tail -n 5 >&2
  die 1 "insmod /root/toa/toa.ko failed"
}
dmesg | grep TOA || true
after=$(dmesg | grep -c 'TOA: toa loaded' || true)
[ "$after" -gt "$before" ] || die 1 "toa is loaded but dmesg shows no new 'TOA: toa loaded'"
