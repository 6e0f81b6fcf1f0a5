import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { DataPathLab } from '../../harness/lab/data-path-lab.ts';
import type { GuestShell } from '../../harness/remote/guest-shell.ts';

/**
 * A kernel module into a running guest through its shell (the micro-VM has no
 * file transfer): debug info stripped (800 KB → tens of KB), then base64 in
 * chunks a shell line takes comfortably, checked by size on arrival.
 */
export async function pushModule(guest: GuestShell, ko: string, guestPath: string): Promise<void> {
  const stripped = join(mkdtempSync(join(tmpdir(), 'toa-push-')), basename(ko));
  copyFileSync(ko, stripped);
  execFileSync('strip', ['--strip-debug', stripped]);
  const bytes = readFileSync(stripped);
  const text = bytes.toString('base64');
  await guest.check(`rm -f ${guestPath}.b64`);
  for (let at = 0; at < text.length; at += 16_000) await guest.check(`printf %s '${text.slice(at, at + 16_000)}' >> ${guestPath}.b64`);
  await guest.check(`base64 -d ${guestPath}.b64 > ${guestPath} && rm ${guestPath}.b64`);
  const size = Number((await guest.check(`wc -c < ${guestPath}`)).stdout.trim());
  if (size !== bytes.length) throw new Error(`${guestPath}: ${size} bytes in the guest, ${bytes.length} sent`);
}

/**
 * The same lab with another module as "the module under test" (a vendor's:
 * loaded bare), for scenarios run on a module pushed into the guest.
 */
export function labWithModule<Lab extends DataPathLab>(lab: Lab, toaModulePath: string): Lab {
  return new Proxy(lab, {
    get: (target, prop) => (prop === 'toaModulePath' ? toaModulePath : prop === 'ownModule' ? false : Reflect.get(target, prop, target)),
  });
}
