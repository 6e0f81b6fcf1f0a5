#!/bin/sh
# toa-lab: VIPs on lo for CentOS 8: network-scripts + ifcfg-lo:N + ifup
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

# Package manager: dnf.
pkg_installed() {
  rpm -q "$1" >/dev/null 2>&1
}
pkg_refresh() {
  :
}
# Once per script, and not fatal: cached lists may still do.
pkg_refreshed=no
pkg_refresh_once() {
  [ "$pkg_refreshed" = yes ] && return 0
  pkg_refreshed=yes
  pkg_refresh || echo "toa-lab: refreshing the package lists failed; using the cached ones" >&2
}
pkg_available() {
  timeout 300 dnf -q -y list --available "$1" >/dev/null
}
pkg_install() {
  timeout 1800 dnf -y install "$@"
}
if ! pkg_installed network-scripts; then
  pkg_refresh_once
  pkg_install network-scripts || die 1 "cannot install network-scripts (the guide installs it for ifup)"
fi
command -v ifup >/dev/null 2>&1 || die 4 "ifup is not installed"
mkdir -p /etc/sysconfig/network-scripts
cat > /etc/sysconfig/network-scripts/ifcfg-lo:1 <<'TOA_LAB_EOF'
DEVICE=lo:1
IPADDR=192.0.2.100
NETMASK=255.255.255.255
TOA_LAB_EOF
chmod 0644 /etc/sysconfig/network-scripts/ifcfg-lo:1
mkdir -p /etc/sysconfig/network-scripts
cat > /etc/sysconfig/network-scripts/ifcfg-lo:2 <<'TOA_LAB_EOF'
DEVICE=lo:2
IPADDR=192.0.2.101
NETMASK=255.255.255.255
TOA_LAB_EOF
chmod 0644 /etc/sysconfig/network-scripts/ifcfg-lo:2
ifup lo:1 || die 1 "ifup lo:1 failed"
ifup lo:2 || die 1 "ifup lo:2 failed"
addresses=$(ip -o addr show dev lo)
for vip in 192.0.2.100 192.0.2.101; do
  case "$addresses" in
    *" inet $vip/32 "*) echo "toa-lab: $vip is on lo" ;;
    *) die 1 "VIP $vip is not on lo (ip -o addr show dev lo: $addresses)" ;;
  esac
done
mkdir -p /etc/sysctl.d
cat > /etc/sysctl.d/90-toa-lab-dsr-arp.conf <<'TOA_LAB_EOF'
net.ipv4.conf.all.arp_ignore = 1
net.ipv4.conf.all.arp_announce = 2
TOA_LAB_EOF
chmod 0644 /etc/sysctl.d/90-toa-lab-dsr-arp.conf
sysctl -p /etc/sysctl.d/90-toa-lab-dsr-arp.conf
