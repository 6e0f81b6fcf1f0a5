#!/bin/busybox sh
# toa-lab patched-kernel guest: PID 1 on the disk's ext4 root. A CentOS 6
# rc.sysinit in miniature: mount, network, the admin's
# /etc/sysconfig/modules/*.modules, crond; then the guest agent on ttyS1.
# Nothing here names toa: whatever loads it at boot is the guide's startup script.
# The kernel mounted the root read-only (`ro` on the kernel line): rw before
# busybox puts its applet links on it.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -o remount,rw /
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

lab_ip=192.0.2.10/24
read -r cmdline < /proc/cmdline
for word in $cmdline; do
  case "$word" in toalab.ip=*) lab_ip=${word#toalab.ip=} ;; esac
done
ip link set lo up
echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6
ip addr add "$lab_ip" dev eth0
ip link set eth0 up
echo "toa-lab: lab wire up on eth0 lab_ip=$lab_ip"

# rc.sysinit: "Load other user-defined modules".
for file in /etc/sysconfig/modules/*.modules; do
  [ -x "$file" ] && "$file" && echo "toa-lab: ran $file"
done
echo "toa-lab: startup scripts done; modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"

mkdir -p /var/spool/cron/crontabs /var/log
crond -c /var/spool/cron/crontabs -L /var/log/cron.log
echo "toa-lab: crond started"

while true; do
  /bin/toa-agent /dev/ttyS1
  echo "toa-lab: agent exited, restarting"
  sleep 1
done
