#!/usr/bin/env bash
# Installs what toa-lab needs and is not there yet; quick when everything is.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: QEMU for the VMs; busybox-static, cpio, kmod for the micro-VM's
# initramfs; gcc/make/libc6-dev and the bookworm kernel headers to build toa.ko and the
# static backend; mmdebstrap to build the other suites' chroots; util-linux for setpriv;
# xmllint (JUnit schema check), chromium (the HTML report in a real browser), shellcheck;
# sfdisk (fdisk), dosfstools and mtools to make cloud-format disks on files (GPT, FAT ESP,
# never mounted), genisoimage for cloud-init NoCloud seeds, ovmf (UEFI firmware for QEMU);
# tinyproxy and socat: the package proxy that foreign guests reach through a guest forward;
# rpm (rpm, rpm2cpio, rpmbuild) for a user's kernel as RPMs (--kernel-rpm) and its tests.
# clang and the static libbpf, libelf, zlib and libzstd: eBPF TOA (native/toa-bpf) and its
# static loader for busybox guests.
debian_packages=(
  qemu-system-x86 qemu-utils busybox-static cpio kmod gcc make libc6-dev
  linux-headers-amd64 mmdebstrap util-linux xz-utils zstd ca-certificates
  libxml2-utils chromium shellcheck
  fdisk dosfstools mtools genisoimage ovmf
  tinyproxy-bin socat rpm
  clang libbpf-dev libelf-dev zlib1g-dev libzstd-dev
)
missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "toa-lab: missing Debian packages (${missing[*]}); run this as root to install them" >&2
    exit 2
  fi
  echo "toa-lab: installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The micro-VM resolves its kernel through apt's lists: make sure there are some.
if ! apt-cache show --no-all-versions linux-image-amd64 >/dev/null 2>&1; then
  apt-get update -q
fi

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "toa-lab: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 2
fi

# npm packages, reinstalled only when the lock file changed.
stamp=node_modules/.toa-lab-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "toa-lab: installing npm packages"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
