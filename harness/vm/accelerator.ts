import { accessSync, constants } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../cache/artifact-cache.ts';
import type { Accelerator } from './qemu/qemu-args.ts';

/**
 * KVM is used only after a short boot probe proved it works on this host; on
 * the lab machines /dev/kvm exists but KVM guests hang at boot, so the answer
 * there is TCG. The verdict is remembered per host kernel for a day, so only
 * the first run of the day pays for the probe.
 */
export interface AcceleratorChoice {
  accelerator: Accelerator;
  /** Why, in words for the run's output. */
  reason: string;
}

export type KvmBootProbe = () => Promise<{ ok: true } | { ok: false; why: string }>;

const VERDICT_TTL_MS = 24 * 3600_000;

export async function chooseAccelerator(probe: KvmBootProbe, kvmDevice = '/dev/kvm'): Promise<AcceleratorChoice> {
  const forced = process.env.TOA_LAB_ACCEL;
  if (forced === 'tcg' || forced === 'kvm') return { accelerator: forced, reason: 'forced by TOA_LAB_ACCEL' };
  if (!deviceUsable(kvmDevice)) return { accelerator: 'tcg', reason: `${kvmDevice} is missing or not accessible` };

  const cached = await readVerdict();
  if (cached) return { accelerator: cached.accelerator, reason: `${cached.reason} (probed ${cached.probedAt})` };

  const started = Date.now();
  const outcome = await probe();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const choice: AcceleratorChoice = outcome.ok
    ? { accelerator: 'kvm', reason: `KVM boot probe passed in ${seconds} s` }
    : { accelerator: 'tcg', reason: `KVM boot probe failed after ${seconds} s (${outcome.why}); falling back to TCG` };
  await writeVerdict(choice);
  return choice;
}

function deviceUsable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function verdictFile(): string {
  return join(cacheRoot(), 'accelerator-verdict.json');
}

async function readVerdict(): Promise<(AcceleratorChoice & { probedAt: string }) | null> {
  try {
    const saved = JSON.parse(await readFile(verdictFile(), 'utf8')) as AcceleratorChoice & {
      probedAt: string;
      hostKernel: string;
    };
    const fresh = Date.now() - Date.parse(saved.probedAt) < VERDICT_TTL_MS;
    return fresh && saved.hostKernel === release() ? saved : null;
  } catch {
    return null;
  }
}

async function writeVerdict(choice: AcceleratorChoice): Promise<void> {
  await mkdir(dirname(verdictFile()), { recursive: true });
  await writeFile(
    verdictFile(),
    JSON.stringify({ ...choice, probedAt: new Date().toISOString(), hostKernel: release() }),
  );
}
