#!/bin/sh
# toa-lab: load toa at boot on CentOS 8: dkms (/usr/src/toa-1.0) + /etc/modules-load.d/toa.conf
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
if ! pkg_installed dkms; then
  pkg_refresh_once
  pkg_install dkms || die 1 "cannot install dkms (on EL it comes from EPEL)"
fi
src=/root/toa
[ -d "$src" ] || die 4 "TOA source not found in $src: push it there first"
if [ -f "$src/Makefile" ]; then
  build_dir=$src
elif [ -f "$src/src/Makefile" ]; then
  build_dir=$src/src
else
  die 4 "no Makefile in $src or $src/src"
fi
release=$(uname -r)
dkms remove -m toa -v 1.0 --all >/dev/null 2>&1 || true
rm -rf /usr/src/toa-1.0
mkdir -p /usr/src/toa-1.0
cp -R "$build_dir"/. /usr/src/toa-1.0/
# Objects from the toa-build step carry that directory's paths: dkms builds its own.
rm -f /usr/src/toa-1.0/*.o /usr/src/toa-1.0/*.ko /usr/src/toa-1.0/*.mod /usr/src/toa-1.0/*.mod.c /usr/src/toa-1.0/.*.cmd /usr/src/toa-1.0/modules.order /usr/src/toa-1.0/Module.symvers
mkdir -p /usr/src/toa-1.0
cat > /usr/src/toa-1.0/dkms.conf <<'TOA_LAB_EOF'
PACKAGE_NAME="toa"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="toa"
DEST_MODULE_LOCATION[0]="/extra"
AUTOINSTALL="yes"
TOA_LAB_EOF
chmod 0644 /usr/src/toa-1.0/dkms.conf
mkdir -p /etc/modules-load.d
cat > /etc/modules-load.d/toa.conf <<'TOA_LAB_EOF'
toa
TOA_LAB_EOF
chmod 0644 /etc/modules-load.d/toa.conf
dkms add -m toa -v 1.0 || die 1 "dkms add failed"
dkms build -m toa -v 1.0 -k "$release" || {
  cat /var/lib/dkms/toa/1.0/build/make.log >&2 || true
  die 1 "dkms build failed for $release"
}
dkms install -m toa -v 1.0 -k "$release" || die 1 "dkms install failed for $release"
resolved=$(modinfo -F filename toa 2>/dev/null || true)
case "$resolved" in
  /lib/modules/$release/*) echo "toa-lab: at boot, modprobe will load $resolved" ;;
  *) die 1 "after depmod, modprobe toa resolves to '$resolved', not a module under /lib/modules/$release/" ;;
esac
