#!/bin/sh
# toa-lab: load toa at boot on SUSE Linux Enterprise Server 11 SP3: the guide's load lines in /etc/init.d/boot.local
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
[ -f /etc/init.d/boot.local ] || printf '#!/bin/sh\n' > /etc/init.d/boot.local
sed -i '/^# toa-lab: begin (Huawei guide: load TOA at boot)$/,/^# toa-lab: end$/d' /etc/init.d/boot.local
cat >> /etc/init.d/boot.local <<'TOA_LAB_EOF'
# toa-lab: begin (Huawei guide: load TOA at boot)
/sbin/modinfo -F filename /root/toa/toa.ko > /dev/null 2>&1
if [ $? -eq 0 ]; then
/sbin/insmod /root/toa/toa.ko
fi
# toa-lab: end
TOA_LAB_EOF
chmod +x /etc/init.d/boot.local
sh -n /etc/init.d/boot.local || die 1 "/etc/init.d/boot.local is not a valid sh script"
