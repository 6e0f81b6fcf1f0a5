#!/bin/sh
# toa-lab: verify the VIPs on lo on Rocky Linux 8.5
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

addresses=$(ip -o addr show dev lo)
for vip in 192.0.2.100 192.0.2.101; do
  case "$addresses" in
    *" inet $vip/32 "*) echo "toa-lab: $vip is on lo" ;;
    *) die 1 "VIP $vip is not on lo (ip -o addr show dev lo: $addresses)" ;;
  esac
done
