import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/usage-error.ts';
import { runKernelUpgradeCase, type KernelUpgradeRemedy, type KernelUpgradeRun } from '../kernel-upgrade/kernel-upgrade-case.ts';
import { ensureMainKernelImage } from '../kernel-upgrade/main-kernel-image.ts';
import { formatKernelUpgradeRun, kernelUpgradeHeld } from '../kernel-upgrade/kernel-upgrade-report.ts';
import { RunSession } from '../lifecycle/run-session.ts';

export const KERNEL_UPGRADE_HELP = `usage: toa-lab kernel-upgrade [--remedy rebuild|dkms|both] [--out DIR]

The Huawei guide's warning, run on the lab's Debian 12 as installed from bookworm
(main's kernel; the image debian-12-main, built here once): the guide's procedure
and TOA through the balancer; then the kernel the security pocket brings (apt-get
install linux-image-amd64 linux-headers-amd64), a reboot through GRUB's default
entry, and what the guest shows (uname -r, /proc/modules, systemd-modules-load's
journal, modprobe and insmod, dkms status, the backend's own log); then a remedy,
each on its own guest:

  --remedy rebuild   the guide's: make, insmod and autoload again for the new
                     kernel; TOA checked, then again after a second reboot
  --remedy dkms      DKMS autoload (dkms.conf, AUTOINSTALL) set up before the
                     upgrade: the upgrade builds toa.ko by itself; after the
                     reboot toa must be loaded and TOA work, with no manual step
  --remedy both      both, one after the other (default)
  --out DIR          kernel-upgrade.md (steps, findings, checks) and
                     kernel-upgrade.json (default: out/kernel-upgrade)

Exit 0: every step passed and every check held; 1: otherwise; 2: usage error.
Minutes per guest under TCG (apt, initramfs and module builds in the guest).
`;

const REMEDIES: Record<string, readonly KernelUpgradeRemedy[]> = { rebuild: ['rebuild'], dkms: ['dkms'], both: ['rebuild', 'dkms'] };

export function parseKernelUpgradeArgs(args: string[]): { remedies: readonly KernelUpgradeRemedy[]; out: string } {
  const { values, positionals } = parseArgs({ args, options: { remedy: { type: 'string' }, out: { type: 'string' } }, allowPositionals: true });
  if (positionals.length) throw new UsageError(`toa-lab kernel-upgrade: unexpected argument '${positionals[0]}'\n\n${KERNEL_UPGRADE_HELP}`);
  const remedy = values.remedy ?? 'both';
  const remedies = REMEDIES[remedy];
  if (!remedies) throw new UsageError(`toa-lab kernel-upgrade: unknown remedy '${remedy}'; known: ${Object.keys(REMEDIES).join(', ')}`);
  return { remedies, out: resolve(values.out ?? join('out', 'kernel-upgrade')) };
}

export async function kernelUpgradeCommand(args: string[]): Promise<number> {
  const { remedies, out } = parseKernelUpgradeArgs(args);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const image = await ensureMainKernelImage(log);
  const runs: KernelUpgradeRun[] = [];
  for (const remedy of remedies) {
    const session = await RunSession.open();
    try {
      runs.push(await runKernelUpgradeCase(session, { remedy, image, log: (line) => log(`${remedy}: ${line}`) }));
    } finally {
      await session.close();
    }
  }
  const report = runs.map(formatKernelUpgradeRun).join('\n');
  process.stdout.write(report);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'kernel-upgrade.md'), report);
  await writeFile(join(out, 'kernel-upgrade.json'), JSON.stringify(runs, null, 2));
  process.stderr.write(`toa-lab: report in ${join(out, 'kernel-upgrade.md')}\n`);
  return runs.every(kernelUpgradeHeld) ? 0 : 1;
}
