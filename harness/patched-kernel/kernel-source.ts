/**
 * Where the kernel tree comes from (guide step 1):
 * - `lvs-tarball`: the guide's own package, Linux-2.6.32-220.23.1.el6.x86_64.rs.src.tar.gz,
 *   by URL or by a path the user supplies; it carries net/toa and a .config;
 * - `debian-linux-source`: offline, Debian's linux-source-<series> package
 *   (/usr/src/linux-source-<series>.tar.xz), to which toa-lab's in-tree TOA
 *   (native/toa-intree) is applied and a small config generated.
 */
export type KernelSource =
  | { kind: 'lvs-tarball'; /** URL (http/https) or absolute path */ location: string; tree: string }
  | { kind: 'debian-linux-source'; series: string };

/** The guide's package, as the Huawei ELB page names it. */
export const LVS_TARBALL: KernelSource = {
  kind: 'lvs-tarball',
  location: 'http://kb.linuxvirtualserver.org/images/3/34/Linux-2.6.32-220.23.1.el6.x86_64.rs.src.tar.gz',
  tree: 'linux-2.6.32-220.23.1.el6.x86_64.rs',
};

export const DEBIAN_LINUX_SOURCE: KernelSource = { kind: 'debian-linux-source', series: '6.1' };

/**
 * The config recipe for Debian's tree: x86_64 defconfig, the kernel's own KVM
 * guest fragment (virtio-pci/net/blk, 8250 console), and native/toa-intree/
 * toa-lab.config (kprobes, netfilter, modules; drivers the lab's guest never
 * sees are left out to shorten the build). CONFIG_TOA=m comes from the guide's
 * step 3, not from here.
 */
export const CONFIG_TARGETS = ['defconfig', 'kvm_guest.config', 'toa-lab.config'] as const;

export function describeSource(source: KernelSource): string {
  return source.kind === 'lvs-tarball' ? `LVS tarball ${source.location}` : `Debian linux-source-${source.series}`;
}
