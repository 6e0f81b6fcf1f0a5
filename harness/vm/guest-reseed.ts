import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureCached } from '../cache/artifact-cache.ts';
import { hashSourceTrees } from '../cache/source-hash.ts';
import { succeeded } from '../exec/command-result.ts';
import { runHostCommand } from '../exec/run-host-command.ts';
import { repoRoot } from '../repo-root.ts';
import { writeGuestFile, type GuestShell } from '../remote/guest-shell.ts';

/**
 * native/guest-reseed, the few hundred bytes that make a restored micro-VM's
 * randomness and wall clock its own (the C file says how). Built on the host
 * (no libc, raw syscalls: the busybox initramfs has none) and cached like any
 * artefact; it lives in the saved guest's /run, so it adds nothing to the
 * micro-VM image and its recipe.
 */
export const GUEST_RESEED_PATH = '/run/toa-lab/guest-reseed';

export interface GuestReseedTool {
  path: string;
  /** Its hash: part of a snapshot's key, since the snapshot carries it. */
  hash: string;
}

let resolved: Promise<GuestReseedTool> | undefined;

/** Once per process: every micro-VM start asks (a gcc spawn and a source hash each time otherwise). */
export function ensureGuestReseedTool(): Promise<GuestReseedTool> {
  resolved ??= buildGuestReseedTool().catch((error: unknown) => {
    resolved = undefined; // a failed build is tried again by the next start
    throw error;
  });
  return resolved;
}

async function buildGuestReseedTool(): Promise<GuestReseedTool> {
  const gcc = (await runHostCommand('gcc', ['--version'])).stdout.split('\n')[0];
  const recipe = { sources: await hashSourceTrees(['native/guest-reseed']), gcc };
  const artifact = await ensureCached('guest-reseed', recipe, async (dir) => {
    await runHostCommand('gcc', [
      '-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-fno-asynchronous-unwind-tables',
      '-fno-pie', '-no-pie', '-Os', '-Wall', '-Wextra', '-Werror',
      // No build id, no page-aligned code segment: ~1.7 KB instead of ~9 KB through the agent's line.
      '-Wl,--build-id=none', '-Wl,-z,noseparate-code', '-s',
      '-o', join(dir, 'guest-reseed'), join(repoRoot(), 'native', 'guest-reseed', 'reseed.c'),
    ]);
  });
  return { path: join(artifact.dir, 'guest-reseed'), hash: artifact.hash };
}

/** Puts the tool at GUEST_RESEED_PATH in the guest (before the guest is saved). */
export async function installGuestReseed(guest: GuestShell, tool: GuestReseedTool): Promise<void> {
  await writeGuestFile(guest, GUEST_RESEED_PATH, await readFile(tool.path), 0o755);
}

export interface ReseedOutcome {
  /** The tool's own report: entropy credited, CRNG reseeded, clock set (each syscall's result). */
  report: string;
  /** The host's wall clock the guest was set to (ms since the epoch). */
  clockSetTo: number;
  durationMs: number;
}

/**
 * Fresh randomness and the right time for a guest that did not boot: 64 bytes
 * from the host's CSPRNG credited to the guest's input pool, the CRNG reseeded
 * from it at once, and CLOCK_REALTIME set to the host's time as it is sent (off
 * by the agent's latency, tens of ms: a booted guest reads a 1 s resolution RTC).
 */
export async function reseedGuest(guest: GuestShell): Promise<ReseedOutcome> {
  const now = Date.now();
  const seconds = Math.floor(now / 1000);
  const nanoseconds = (now % 1000) * 1_000_000;
  const result = await guest.run(`${GUEST_RESEED_PATH} ${randomBytes(64).toString('hex')} ${seconds} ${nanoseconds}`);
  if (!succeeded(result)) {
    throw new Error(`guest-reseed failed (exit ${result.exitCode}): ${(result.stdout + result.stderr).trim()}`);
  }
  return { report: result.stdout.trim().replaceAll('\n', '; '), clockSetTo: now, durationMs: result.durationMs };
}
