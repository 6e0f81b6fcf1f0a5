#!/bin/sh
# toa-lab: load toa at boot on Debian 11 (bullseye): /lib/modules/$(uname -r)/extra + depmod + /etc/modules-load.d/toa.conf
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
release=$(uname -r)
mkdir -p "/lib/modules/$release/extra"
cp /root/toa/toa.ko "/lib/modules/$release/extra/toa.ko"
depmod -a || die 1 "depmod -a failed"
mkdir -p /etc/modules-load.d
cat > /etc/modules-load.d/toa.conf <<'TOA_LAB_EOF'
toa
TOA_LAB_EOF
chmod 0644 /etc/modules-load.d/toa.conf
resolved=$(modinfo -F filename toa 2>/dev/null || true)
case "$resolved" in
  /lib/modules/$release/extra/*) echo "toa-lab: at boot, modprobe will load $resolved" ;;
  *) die 1 "after depmod, modprobe toa resolves to '$resolved', not a module under /lib/modules/$release/extra/" ;;
esac
