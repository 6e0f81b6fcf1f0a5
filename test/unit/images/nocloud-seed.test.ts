import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mimeMultipart, renderNoCloudSeed, writeNoCloudSeed, type NoCloudSeedOptions } from '../../../harness/images/cloud/nocloud-seed.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDx1lFbmMD2V1R2XyKHRSJbBUrlv8m1sZ8cCqYxQ2XdZ toa-lab run key';
const BASE: NoCloudSeedOptions = {
  dir: '/unused',
  instanceId: 'iid-toa-lab-1',
  hostname: 'cloud-guest',
  user: { name: 'toa', publicKey: `${KEY}\n` },
};

/** A deliberately small reader for what mimeMultipart writes: headers and body of each part. */
function readMultipart(message: string): Array<{ headers: Record<string, string>; body: string }> {
  const boundary = /boundary="([^"]+)"/.exec(message)?.[1];
  if (!boundary) throw new Error('no boundary');
  const [, ...chunks] = message.split(`--${boundary}`);
  expect(chunks.at(-1)).toBe('--\n');
  return chunks.slice(0, -1).map((chunk) => {
    const [head, ...body] = chunk.replace(/^\n/, '').split('\n\n');
    const headers = Object.fromEntries(head!.split('\n').map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
    return { headers, body: body.join('\n\n').replace(/\n$/, '') };
  });
}

describe('the NoCloud seed', () => {
  it('meta-data names the instance and the host', () => {
    expect(parse(renderNoCloudSeed(BASE).metaData)).toEqual({ 'instance-id': 'iid-toa-lab-1', 'local-hostname': 'cloud-guest' });
  });

  it('user-data is a #cloud-config creating only the run user, with its key and passwordless sudo', () => {
    const { userData } = renderNoCloudSeed(BASE);
    expect(userData.split('\n')[0]).toBe('#cloud-config');
    const config = parse(userData);
    expect(config.users).toEqual([
      { name: 'toa', shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: true, ssh_authorized_keys: [KEY] },
    ]);
    expect(config).toMatchObject({ package_update: false, package_upgrade: false, ssh_pwauth: false, manage_etc_hosts: true });
    expect(config.apt).toBeUndefined();
  });

  it('points apt at the proxy when one is given', () => {
    const config = parse(renderNoCloudSeed({ ...BASE, aptProxy: 'http://10.0.2.2:3142' }).userData);
    expect(config.apt).toEqual({ http_proxy: 'http://10.0.2.2:3142', https_proxy: 'http://10.0.2.2:3142' });
  });

  it('with a first-boot script, is a MIME multipart of the cloud-config and the script', () => {
    const { userData } = renderNoCloudSeed({ ...BASE, userDataScript: 'echo hello > /run/hello' });
    expect(userData).toMatch(/^Content-Type: multipart\/mixed; boundary="/);
    const parts = readMultipart(userData);
    expect(parts.map((p) => p.headers['content-type'])).toEqual(['text/cloud-config; charset="us-ascii"', 'text/x-shellscript; charset="us-ascii"']);
    expect(parse(parts[0]!.body).users[0].ssh_authorized_keys).toEqual([KEY]);
    // A bare script gets an interpreter line (cloud-init executes the part as a file).
    expect(parts[1]!.body).toBe('#!/bin/sh\necho hello > /run/hello');
    expect(parts[1]!.headers['content-disposition']).toBe('attachment; filename="user-data.sh"');
  });

  it('keeps a script\'s own interpreter line, and base64-encodes what is not ASCII', () => {
    const parts = readMultipart(
      mimeMultipart([
        { type: 'text/x-shellscript', filename: 'a.sh', content: '#!/bin/bash\necho ok\n' },
        { type: 'text/x-shellscript', filename: 'b.sh', content: '#!/bin/sh\necho café\n' },
      ]),
    );
    expect(parts[0]!.body).toBe('#!/bin/bash\necho ok');
    expect(parts[1]!.headers['content-transfer-encoding']).toBe('base64');
    expect(Buffer.from(parts[1]!.body, 'base64').toString()).toBe('#!/bin/sh\necho café\n');
  });

  it('writes an ISO 9660 volume labelled cidata holding meta-data and user-data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-'));
    const iso = await writeNoCloudSeed({ ...BASE, dir });
    const info = execFileSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' });
    expect(info).toMatch(/^Volume id: cidata$/m);
    const listing = execFileSync('isoinfo', ['-R', '-f', '-i', iso], { encoding: 'utf8' });
    expect(listing.trim().split('\n').sort()).toEqual(['/meta-data', '/user-data']);
    const userData = execFileSync('isoinfo', ['-R', '-x', '/user-data', '-i', iso], { encoding: 'utf8' });
    expect(userData).toBe(renderNoCloudSeed(BASE).userData);
  });
});
