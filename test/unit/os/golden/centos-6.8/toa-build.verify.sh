#!/bin/sh
# toa-lab: verify the -toa kernel runs on CentOS 6.8
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
  *) die 1 "running $(uname -r), not the -toa kernel" ;;
esac
grep -qw 'nohz=off' /proc/cmdline || die 1 "the kernel command line lacks nohz=off"
