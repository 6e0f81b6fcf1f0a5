#!/bin/sh
# toa-lab: verify the backend listens on Debian 11 (bullseye)
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

listening() {
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" && $2 ~ /:0050$/ { found = 1 } END { exit !found }'
}
listening || die 1 "nothing listens on TCP port 80"
