#!/bin/sh
# toa-lab: load toa at boot on CentOS 6.8: /etc/sysconfig/modules/toa.modules (chmod +x)
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

modinfo -F filename toa >/dev/null 2>&1 || die 4 "modinfo cannot read toa: nothing would load at boot"
mkdir -p /etc/sysconfig/modules
cat > /etc/sysconfig/modules/toa.modules <<'TOA_LAB_EOF'
#!/bin/sh
/sbin/modinfo -F filename toa > /dev/null 2>&1
if [ $? -eq 0 ]; then
/sbin/modprobe toa
fi
TOA_LAB_EOF
chmod +x /etc/sysconfig/modules/toa.modules
sh -n /etc/sysconfig/modules/toa.modules || die 1 "/etc/sysconfig/modules/toa.modules is not a valid sh script"
mkdir -p /etc/cron.d
cat > /etc/cron.d/toa <<'TOA_LAB_EOF'
* * * * * root /sbin/modprobe toa
TOA_LAB_EOF
chmod 0644 /etc/cron.d/toa
