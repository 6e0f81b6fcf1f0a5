#!/bin/sh
# toa-lab: load toa on CentOS 6.8
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

case "$(uname -r)" in
  *-toa*) ;;
  *) die 4 "running $(uname -r), not the -toa kernel: reboot after toa-build" ;;
esac
if grep -q '^toa ' /proc/modules; then
  # Left by an earlier run: insmod would fail with "File exists".
  rmmod toa || die 1 "toa is already loaded and cannot be removed"
fi
before=$(dmesg | grep -c 'TOA: toa loaded' || true)
modprobe toa || die 1 "modprobe toa failed"
dmesg | grep TOA || true
after=$(dmesg | grep -c 'TOA: toa loaded' || true)
[ "$after" -gt "$before" ] || die 1 "toa is loaded but dmesg shows no new 'TOA: toa loaded'"
