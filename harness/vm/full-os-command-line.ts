/**
 * The kernel command line every full-OS guest boots with, whichever provider
 * starts it (QEMU directly, Vagrant's libvirt box): the image's own kernel and
 * initrd, root on the virtio disk, predictable NIC names.
 */
export const FULL_OS_KERNEL_COMMAND_LINE = [
  'console=ttyS0',
  'root=/dev/vda',
  'rw',
  'net.ifnames=0', // eth0 (management), eth1 (lab wire)
  'mitigations=off',
  'loglevel=5', // warnings and worse reach the console: oops/WARN evidence without boot noise
].join(' ');
