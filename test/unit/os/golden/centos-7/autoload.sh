#!/bin/sh
# toa-lab: load toa at boot on CentOS 7: /etc/sysconfig/modules/toa.modules (chmod +x)
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

modinfo -F filename /root/toa/toa.ko >/dev/null 2>&1 || die 4 "modinfo cannot read /root/toa/toa.ko: nothing would load at boot"
mkdir -p /etc/sysconfig/modules
cat > /etc/sysconfig/modules/toa.modules <<'TOA_LAB_EOF'
#!/bin/sh
/sbin/modinfo -F filename /root/toa/toa.ko > /dev/null 2>&1
if [ $? -eq 0 ]; then
/sbin/insmod /root/toa/toa.ko
fi
TOA_LAB_EOF
chmod +x /etc/sysconfig/modules/toa.modules
sh -n /etc/sysconfig/modules/toa.modules || die 1 "/etc/sysconfig/modules/toa.modules is not a valid sh script"
