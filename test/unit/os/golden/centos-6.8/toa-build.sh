#!/bin/sh
# toa-lab: patched kernel with TOA for CentOS 6.8
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

src=/root/toa
tarball=Linux-2.6.32-220.23.1.el6.x86_64.rs.src.tar.gz
tree=linux-2.6.32-220.23.1.el6.x86_64.rs
mkdir -p "$src"
cd "$src"
# 1-2. The kernel source package: pushed by the harness, else downloaded as the guide says.
if [ ! -d "$tree" ]; then
  if [ ! -f "$tarball" ]; then
    url=http://kb.linuxvirtualserver.org/images/3/34/Linux-2.6.32-220.23.1.el6.x86_64.rs.src.tar.gz
    if command -v curl >/dev/null 2>&1; then
      curl -fsSL --max-time 1800 -o "$tarball.part" "$url" || die 1 "cannot download $url"
    elif command -v wget >/dev/null 2>&1; then
      wget -q -T 60 -O "$tarball.part" "$url" || die 1 "cannot download $url"
    else
      die 4 "$src/$tarball is missing and neither curl nor wget is installed"
    fi
    mv "$tarball.part" "$tarball"
  fi
  tar xzf "$tarball" || die 1 "cannot unpack $src/$tarball"
fi
[ -d "$tree" ] || die 1 "$tarball did not unpack to $src/$tree"
cd "$tree"
# 3.2. TOA option kind 200 (LVS) -> 254 (Huawei ELB).
sed -i 's/^#define[[:space:]]\{1,\}TCPOPT_TOA[[:space:]].*$/#define TCPOPT_TOA 254/' net/toa/toa.h
grep -q '^#define TCPOPT_TOA 254$' net/toa/toa.h || die 1 "net/toa/toa.h has no TCPOPT_TOA define to change"
# 3.3. IPv6 built into the kernel, TOA as a module.
sed -i 's/CONFIG_IPV6=m/CONFIG_IPV6=y/g' .config
grep -q '^CONFIG_TOA=m$' .config || printf '\n# toa\nCONFIG_TOA=m\n' >> .config
# 3.4. A description at the end of EXTRAVERSION, shown by uname -r.
grep -q '^EXTRAVERSION =.*-toa$' Makefile || sed -i 's/^EXTRAVERSION =\(.*\)$/EXTRAVERSION =\1-toa/' Makefile
grep -q '^EXTRAVERSION =.*-toa$' Makefile || die 1 "the kernel Makefile has no EXTRAVERSION line"
yes '' | make oldconfig >/dev/null || die 1 "make oldconfig failed"
# 4. make -j n, n = number of vCPUs.
jobs=$(getconf _NPROCESSORS_ONLN)
make -j "$jobs" || die 1 "building the kernel failed"
# 5-6. Install the modules and the kernel.
make modules_install || die 1 "make modules_install failed"
make install || die 1 "make install failed"
# 7. Boot the new kernel (entry 0) with nohz=off (else CPU0 may be overloaded).
grub=/boot/grub/grub.conf
sed -i 's/^default=[0-9]*$/default=0/' "$grub"
sed -i '/^[[:space:]]*kernel[[:space:]].*vmlinuz-[^[:space:]]*-toa/{/nohz=off/!s/$/ nohz=off/;}' "$grub"
first_kernel=$(awk '$1 == "kernel" { print; exit }' "$grub")
case "$first_kernel" in
  *vmlinuz-*-toa*nohz=off*) ;;
  *) die 1 "$grub: entry 0 is not the -toa kernel with nohz=off: $first_kernel" ;;
esac
grep -q '^default=0$' "$grub" || die 1 "$grub: default is not 0"
echo "toa-lab: the -toa kernel is installed; reboot to run it"
