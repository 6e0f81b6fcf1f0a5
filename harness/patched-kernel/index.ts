/**
 * harness/patched-kernel — the Huawei guide's 2.6.32 install path, "rebuild the kernel
 * with TOA in-tree", run for real:
 *
 *   kernel source ─(1)─▶ tree + net/toa ─(2–4: toa.h, .config, Makefile)─▶ make,
 *   modules_install, install (5) ─▶ grub.conf (6) ─▶ reboot from the disk (7) ─▶
 *   uname -r, modprobe toa, startup script, cron monitor (7) ─▶ FULLNAT TOA scenario (8)
 *
 * Two machines for steps 5–8 (PatchedKernelTarget): the CentOS 6 layout on a busybox disk of
 * its own (GRUB legacy), and the lab's Debian 12 image (installkernel, update-grub's grub.cfg).
 *
 * Every file edit is a pure function (FileEdit; UnexpectedFileError when a file does not
 * look as expected), every command a rendered sh script; both go through a BuildMachine,
 * the guest (the guide's way) or the host (here, cached per machine).
 */
export { runPatchedKernelProcedure, type PatchedKernelRun, type PatchedKernelRunOptions, type PatchedKernelTarget } from './procedure.ts';
export { buildPatchedKernel, BUILD_STEP_NAMES, type KernelBuildOptions, type KernelBuildOutcome } from './kernel-build.ts';
export { ensurePatchedKernel, findCachedPatchedKernel, refreshToaModule, KernelBuildError, type PatchedKernel } from './kernel-cache.ts';
export { DEBIAN_LINUX_SOURCE, LVS_TARBALL, describeSource, type KernelSource } from './kernel-source.ts';
export { GuestMachine, HostMachine, type BuildMachine } from './tree-access.ts';
export { UnexpectedFileError, type FileEdit } from './file-edit.ts';
export { setToaOptionKind, toaOptionKindOf } from './toa-header.ts';
export { applyGuideConfig, configValue, enableIpv6BuiltIn, enableToaModule } from './kernel-config.ts';
export { appendExtraversion, makefileRelease } from './kernel-makefile.ts';
export { addGrubLegacyEntry, bootKernelByDefaultGrubLegacy, defaultGrubLegacyEntry, parseGrubLegacy } from './grub-legacy.ts';
export { bootKernelByDefaultGrub2, defaultGrub2Entry, parseGrub2 } from './grub2.ts';
export { selectBootEntry, selectBootEntryFromQcow2, type BootSelection } from './firmware.ts';
export { centos6AutoloadFiles, debian12AutoloadFiles } from './autoload-files.ts';
export { PatchedKernelLab, ModprobeGuestShell } from './patched-kernel-lab.ts';
export { formatStepTable } from './step-table.ts';
