import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runHostCommand } from '../../exec/run-host-command.ts';

/**
 * A cloud-init NoCloud seed: the one way in to an image the lab did not make
 * (every distribution's cloud image reads it). An ISO 9660 volume labelled
 * `cidata` holding:
 * - meta-data: the instance id (a new one makes cloud-init run its per-instance
 *   modules again) and the hostname;
 * - user-data: a #cloud-config that creates the run's user with its SSH key and
 *   passwordless sudo, and (optionally) points apt at a proxy; with an extra
 *   first-boot script (the UCloud guide's "UserData" form) a MIME multipart of
 *   the cloud-config and a text/x-shellscript part.
 * Package updates and upgrades stay off: a run must not depend on what the
 * archive serves that day, nor wait for it.
 */
export interface NoCloudSeedOptions {
  /** Where meta-data, user-data and seed.iso are written. */
  dir: string;
  instanceId: string;
  hostname: string;
  user: { name: string; publicKey: string };
  /** e.g. `http://10.0.2.2:3142` (apt-cacher-ng), for apt inside the guest. */
  aptProxy?: string;
  /** An extra shell script run once on first boot (cloud-init's scripts-user). */
  userDataScript?: string;
}

export interface NoCloudSeedFiles {
  metaData: string;
  userData: string;
}

/** Writes meta-data, user-data and the `cidata` ISO into `options.dir`; returns the ISO's path. */
export async function writeNoCloudSeed(options: NoCloudSeedOptions): Promise<string> {
  const files = renderNoCloudSeed(options);
  const content = join(options.dir, 'cidata');
  await mkdir(content, { recursive: true });
  await writeFile(join(content, 'meta-data'), files.metaData);
  await writeFile(join(content, 'user-data'), files.userData);
  const iso = join(options.dir, 'seed.iso');
  // Rock Ridge and Joliet keep the lower-case names exact (cloud-init looks for "user-data").
  await runHostCommand('genisoimage', ['-quiet', '-output', iso, '-volid', 'cidata', '-joliet', '-rock', content]);
  return iso;
}

/** The seed's two files, as pure text. */
export function renderNoCloudSeed(options: NoCloudSeedOptions): NoCloudSeedFiles {
  const metaData = stringify({ 'instance-id': options.instanceId, 'local-hostname': options.hostname });
  const cloudConfig = renderCloudConfig(options);
  const userData =
    options.userDataScript === undefined
      ? cloudConfig
      : mimeMultipart([
          { type: 'text/cloud-config', filename: 'cloud-config.yaml', content: cloudConfig },
          { type: 'text/x-shellscript', filename: 'user-data.sh', content: asScript(options.userDataScript) },
        ]);
  return { metaData, userData };
}

function renderCloudConfig(options: NoCloudSeedOptions): string {
  const config: Record<string, unknown> = {
    // Only the run's user: no distribution default user (debian, cloud-user, ...) with no key.
    users: [
      {
        name: options.user.name,
        shell: '/bin/bash',
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        lock_passwd: true,
        ssh_authorized_keys: [options.user.publicKey.trim()],
      },
    ],
    ssh_pwauth: false,
    // The hostname in /etc/hosts (from cloud-init's template), or sudo stops to look it up in DNS.
    manage_etc_hosts: true,
    package_update: false,
    package_upgrade: false,
  };
  if (options.aptProxy) config['apt'] = { http_proxy: options.aptProxy, https_proxy: options.aptProxy };
  // cloud-init recognises the format by this exact first line.
  return `#cloud-config\n${stringify(config)}`;
}

/** cloud-init runs x-shellscript parts with their own interpreter line: give one to a bare script. */
function asScript(script: string): string {
  const text = script.endsWith('\n') ? script : `${script}\n`;
  return text.startsWith('#!') ? text : `#!/bin/sh\n${text}`;
}

export interface MimePart {
  type: string;
  filename: string;
  content: string;
}

/**
 * A multipart/mixed message as cloud-init reads user-data (what
 * `cloud-init devel make-mime` writes): one part per file, each with its
 * content type; ASCII stays readable (7bit), anything else goes base64.
 */
export function mimeMultipart(parts: readonly MimePart[], boundary = `===============${randomBytes(12).toString('hex')}==`): string {
  if (parts.some((p) => p.content.includes(boundary))) throw new Error('a MIME part contains the boundary');
  const lines = [`Content-Type: multipart/mixed; boundary="${boundary}"`, 'MIME-Version: 1.0', ''];
  for (const part of parts) {
    const ascii = /^[\x00-\x7f]*$/.test(part.content);
    lines.push(
      `--${boundary}`,
      `Content-Type: ${part.type}; charset="${ascii ? 'us-ascii' : 'utf-8'}"`,
      'MIME-Version: 1.0',
      `Content-Transfer-Encoding: ${ascii ? '7bit' : 'base64'}`,
      `Content-Disposition: attachment; filename="${part.filename}"`,
      '',
      ascii ? part.content.replace(/\n$/, '') : (Buffer.from(part.content).toString('base64').match(/.{1,76}/g) ?? []).join('\n'),
    );
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\n');
}
