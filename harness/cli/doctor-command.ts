import { existsSync, statfsSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { cacheRoot } from '../cache/artifact-cache.ts';
import { runHostCommand } from '../exec/run-host-command.ts';
import { chromiumAvailable } from '../report/browser-snapshot.ts';

export const DOCTOR_HELP = `usage: toa-lab doctor

Checks what the lab needs on this host: QEMU, KVM (and whether it was found
usable), disk and memory, the build tools, Chromium, Vagrant/libvirt.
Exit code 0 when the lab can run, 2 when something it needs is missing.
`;

interface Finding {
  what: string;
  ok: boolean;
  detail: string;
  required: boolean;
}

export async function doctorCommand(): Promise<number> {
  const findings: Finding[] = [
    await tool('QEMU', 'qemu-system-x86_64', ['--version'], true),
    await tool('qemu-img', 'qemu-img', ['--version'], true),
    kvm(),
    disk(),
    memory(),
    await tool('gcc', 'gcc', ['--version'], true),
    await tool('mmdebstrap (other suites\' kernels)', 'mmdebstrap', ['--version'], true),
    { what: 'busybox-static', ok: existsSync('/bin/busybox') || existsSync('/usr/bin/busybox'), detail: 'for the micro-VM initramfs', required: true },
    { what: 'Chromium (HTML report check)', ok: chromiumAvailable(), detail: '/usr/bin/chromium', required: false },
    await tool('Vagrant (vagrant provider)', 'vagrant', ['--version'], false),
    await tool('libvirtd (vagrant provider)', 'libvirtd', ['--version'], false),
  ];
  for (const f of findings) {
    process.stdout.write(`${f.ok ? 'ok  ' : f.required ? 'FAIL' : 'warn'}  ${f.what.padEnd(38)} ${f.detail}\n`);
  }
  return findings.some((f) => f.required && !f.ok) ? 2 : 0;
}

async function tool(what: string, file: string, args: string[], required: boolean): Promise<Finding> {
  const result = await runHostCommand(file, args, { check: false, timeoutMs: 10_000 }).catch(() => null);
  const ok = result?.exitCode === 0;
  return { what, ok, required, detail: ok ? (result.stdout || result.stderr).split('\n')[0]!.trim() : 'not found' };
}

function kvm(): Finding {
  const present = existsSync('/dev/kvm');
  return {
    what: 'KVM',
    ok: true,
    required: false,
    detail: present
      ? '/dev/kvm present: each run probes it with a short boot and falls back to TCG if it hangs'
      : 'no /dev/kvm: TCG (software emulation), slower but complete',
  };
}

function disk(): Finding {
  const root = existsSync(cacheRoot()) ? cacheRoot() : '/';
  const stats = statfsSync(root);
  const freeGiB = (stats.bavail * stats.bsize) / 2 ** 30;
  return { what: `disk free at ${root}`, ok: freeGiB >= 10, required: true, detail: `${freeGiB.toFixed(1)} GiB (images and chroots need ~10 GiB)` };
}

function memory(): Finding {
  const free = freemem() / 2 ** 30;
  return { what: 'memory', ok: free >= 2, required: true, detail: `${free.toFixed(1)} GiB free of ${(totalmem() / 2 ** 30).toFixed(1)} GiB (a TCG guest uses ~1 GiB)` };
}
