/**
 * A writer for the "newc" cpio format the kernel unpacks as an initramfs.
 * Writing the archive ourselves (instead of calling `cpio` over a staged tree)
 * lets us put device nodes and root ownership into it without being root and
 * without touching the host's filesystem.
 */

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char-device'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

export function writeCpioNewc(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  const push = (chunk: Buffer): void => {
    chunks.push(chunk);
    offset += chunk.length;
  };
  const pad = (): void => {
    const rem = offset % 4;
    if (rem) push(Buffer.alloc(4 - rem));
  };

  let inode = 1;
  const emit = (path: string, mode: number, data: Uint8Array, rdev = { major: 0, minor: 0 }): void => {
    const name = path.replace(/^\/+/, '');
    const fields = [
      inode++, mode, 0 /* uid */, 0 /* gid */, mode & S_IFDIR ? 2 : 1, 0 /* mtime: reproducible */,
      data.length, 0, 0, rdev.major, rdev.minor, Buffer.byteLength(name) + 1, 0,
    ];
    push(Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''), 'ascii'));
    push(Buffer.from(name + '\0', 'utf8'));
    pad();
    push(Buffer.from(data));
    pad();
  };

  for (const entry of entries) {
    switch (entry.type) {
      case 'dir':
        emit(entry.path, S_IFDIR | (entry.mode ?? 0o755), new Uint8Array());
        break;
      case 'file':
        emit(entry.path, S_IFREG | (entry.mode ?? 0o644), entry.data);
        break;
      case 'symlink':
        emit(entry.path, S_IFLNK | 0o777, Buffer.from(entry.target, 'utf8'));
        break;
      case 'char-device':
        emit(entry.path, S_IFCHR | (entry.mode ?? 0o600), new Uint8Array(), entry);
        break;
    }
  }
  emit('TRAILER!!!', 0, new Uint8Array());
  return Buffer.concat(chunks);
}
