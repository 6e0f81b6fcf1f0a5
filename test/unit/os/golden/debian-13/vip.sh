#!/bin/sh
# toa-lab: VIPs on lo for Debian 13 (trixie): /etc/network/interfaces.d/lo-cloud-init + networking restart
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

grep -Eq '^[[:space:]]*source(-directory)?[[:space:]]+/etc/network/interfaces\.d' /etc/network/interfaces ||
  die 4 "/etc/network/interfaces does not source /etc/network/interfaces.d: /etc/network/interfaces.d/lo-cloud-init would be ignored"
mkdir -p /etc/network/interfaces.d
cat > /etc/network/interfaces.d/lo-cloud-init <<'TOA_LAB_EOF'
auto lo:1
iface lo:1 inet static
address 192.0.2.100
netmask 255.255.255.255

auto lo:2
iface lo:2 inet static
address 192.0.2.101
netmask 255.255.255.255
TOA_LAB_EOF
chmod 0644 /etc/network/interfaces.d/lo-cloud-init
if [ -x /etc/init.d/networking ]; then
  /etc/init.d/networking restart || die 1 "/etc/init.d/networking restart failed"
else
  systemctl restart networking || die 1 "systemctl restart networking failed"
fi
addresses=$(ip -o addr show dev lo)
for vip in 192.0.2.100 192.0.2.101; do
  case "$addresses" in
    *" inet $vip/32 "*) echo "toa-lab: $vip is on lo" ;;
    *) die 1 "VIP $vip is not on lo (ip -o addr show dev lo: $addresses)" ;;
  esac
done
