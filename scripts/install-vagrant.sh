#!/usr/bin/env bash
# Opt-in: what the Vagrant provider needs (Debian's vagrant + vagrant-libvirt + libvirt),
# then libvirt's daemons started by hand (systemd is not PID 1 on the lab machines).
# `npm test` never runs this; test/e2e-full/vagrant-*.test.ts does (as root).
# Quick when everything is already there. Prints nothing but problems on the happy path.
set -euo pipefail

packages=(vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients dnsmasq-base qemu-utils)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "toa-lab: missing Debian packages (${missing[*]}); run $0 as root" >&2
    exit 2
  fi
  echo "toa-lab: installing Debian packages: ${missing[*]}"
  apt-get update -q
  # policy-rc.d: do not let the packages try to start services through invoke-rc.d.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# /dev/kvm is root-only here: libvirt's unprivileged QEMU re-probes capabilities on every
# call (minutes). Run QEMU as root, as the rest of the lab does.
conf=/etc/libvirt/qemu.conf
if ! grep -q '^user = "root"' "$conf"; then
  printf '\n# toa-lab (scripts/install-vagrant.sh)\nuser = "root"\ngroup = "root"\n' >> "$conf"
  restart=1
fi
# A Vagrant box reaches its package repositories through the run's proxy: a user-mode
# guestfwd that starts one socat per connection. libvirt's default QEMU sandbox denies
# QEMU that spawn (seccomp, spawn=deny), so the sandbox is off, as for the QEMU provider.
if ! grep -q '^seccomp_sandbox = 0' "$conf"; then
  printf '\n# toa-lab: guestfwd cmd: needs QEMU to spawn (scripts/install-vagrant.sh)\nseccomp_sandbox = 0\n' >> "$conf"
  restart=1
fi

running() { pgrep -x "$1" >/dev/null; }
if [ "${restart:-0}" = 1 ] && running libvirtd; then
  kill "$(cat /run/libvirtd.pid)" 2>/dev/null || true
  for _ in $(seq 50); do running libvirtd || break; sleep 0.1; done
fi
running virtlogd || virtlogd -d
if ! running libvirtd; then
  libvirtd -d
fi
# Wait until libvirtd answers (its socket appears a moment after it forks).
for _ in $(seq 100); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "toa-lab: libvirtd did not answer on qemu:///system" >&2
exit 1
