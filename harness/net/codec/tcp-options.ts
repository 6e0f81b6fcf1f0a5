/**
 * TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018).
 *
 * Parsing is deliberately lenient and lossless: the lab sends malformed option lists on purpose
 * (TOA with length 0/1/255, options after EOL) and needs to read back exactly what went out.
 * So no option list is ever rejected; bytes that cannot be read as a well-formed option are kept
 * in a `raw` entry, and `serializeTcpOptions(parseTcpOptions(b))` reproduces `b` byte for byte.
 */
export type TcpOption =
  | { type: 'eol' }
  | { type: 'nop' }
  | { type: 'mss'; mss: number }
  | { type: 'window-scale'; shift: number }
  | { type: 'sack-permitted' }
  | { type: 'sack'; blocks: { left: number; right: number }[] }
  | { type: 'timestamps'; value: number; echoReply: number }
  /**
   * TCP Fast Open (RFC 7413 §4.1.1, kind 34): an empty cookie asks the server for one (a cookie
   * request); 4–16 bytes, an even number, is a cookie — what Linux's tcp_parse_fastopen_option
   * takes. Any other length is kept as an `unknown` kind 34 (Linux ignores it as well).
   */
  | { type: 'fast-open'; cookie: Uint8Array }
  /** A well-formed kind/length/data option we do not interpret (TOA lives here). */
  | { type: 'unknown'; kind: number; data: Uint8Array }
  /** Bytes written verbatim: malformed options, non-zero bytes after EOL, hostile input. */
  | { type: 'raw'; bytes: Uint8Array };

export const TcpOptionKind = {
  eol: 0,
  nop: 1,
  mss: 2,
  windowScale: 3,
  sackPermitted: 4,
  sack: 5,
  timestamps: 8,
  fastOpen: 34,
} as const;

/** RFC 7413 §4.1.1: a cookie is 4 to 16 bytes (Linux also wants an even length: TCP_FASTOPEN_COOKIE_MIN/MAX). */
export const FAST_OPEN_COOKIE_MIN = 4;
export const FAST_OPEN_COOKIE_MAX = 16;

/** Whether `length` bytes after kind and length make a Fast Open option Linux reads (a request or a cookie). */
export function isFastOpenCookieLength(length: number): boolean {
  return length === 0 || (length >= FAST_OPEN_COOKIE_MIN && length <= FAST_OPEN_COOKIE_MAX && length % 2 === 0);
}

/** The options area of a TCP header holds at most 40 bytes (data offset 15 × 4 − 20). */
export const MAX_TCP_OPTIONS_LENGTH = 40;

export function tcpOptionLength(option: TcpOption): number {
  switch (option.type) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'window-scale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'sack':
      return 2 + 8 * option.blocks.length;
    case 'timestamps':
      return 10;
    case 'fast-open':
      return 2 + option.cookie.length;
    case 'unknown':
      return 2 + option.data.length;
    case 'raw':
      return option.bytes.length;
  }
}

/** Bytes the options take as written, before padding. */
export function tcpOptionsLength(options: readonly TcpOption[]): number {
  let length = 0;
  for (const option of options) length += tcpOptionLength(option);
  return length;
}

/** Length of the options once padded to a 4-byte boundary, as they occupy the header. */
export function paddedTcpOptionsLength(options: readonly TcpOption[]): number {
  return (tcpOptionsLength(options) + 3) & ~3;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

function isAllZero(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

/** The Fast Open option of a segment, if it has one Linux would read: its cookie (empty = a cookie request). */
export function findFastOpenOption(options: readonly TcpOption[]): Uint8Array | undefined {
  for (const option of options) if (option.type === 'fast-open') return option.cookie;
  return undefined;
}

/** Decodes a well-formed kind/length option; `undefined` when its length does not fit the kind. */
function decodeKnownOption(kind: number, data: Uint8Array): TcpOption | undefined {
  switch (kind) {
    case TcpOptionKind.mss:
      return data.length === 2 ? { type: 'mss', mss: (data[0]! << 8) | data[1]! } : undefined;
    case TcpOptionKind.windowScale:
      return data.length === 1 ? { type: 'window-scale', shift: data[0]! } : undefined;
    case TcpOptionKind.sackPermitted:
      return data.length === 0 ? { type: 'sack-permitted' } : undefined;
    case TcpOptionKind.sack: {
      if (data.length === 0 || data.length % 8 !== 0) return undefined;
      const blocks = [];
      for (let i = 0; i < data.length; i += 8) blocks.push({ left: readUint32(data, i), right: readUint32(data, i + 4) });
      return { type: 'sack', blocks };
    }
    case TcpOptionKind.timestamps:
      return data.length === 8 ? { type: 'timestamps', value: readUint32(data, 0), echoReply: readUint32(data, 4) } : undefined;
    case TcpOptionKind.fastOpen:
      return isFastOpenCookieLength(data.length) ? { type: 'fast-open', cookie: data } : undefined;
    default:
      return undefined;
  }
}

/**
 * Reads an options area. The zero bytes that pad an EOL to the next 4-byte boundary are implied
 * (not returned); anything else after EOL, and any option whose length byte is missing, below 2 or
 * past the end, is returned as one trailing `raw` entry.
 */
export function parseTcpOptions(area: Uint8Array): TcpOption[] {
  const options: TcpOption[] = [];
  let i = 0;
  while (i < area.length) {
    const kind = area[i]!;
    if (kind === TcpOptionKind.eol) {
      options.push({ type: 'eol' });
      const rest = area.subarray(i + 1);
      // Implied only when re-padding would write exactly these bytes back.
      const padding = ((i + 1 + 3) & ~3) - (i + 1);
      if (!(rest.length === padding && isAllZero(rest))) options.push({ type: 'raw', bytes: rest });
      return options;
    }
    if (kind === TcpOptionKind.nop) {
      options.push({ type: 'nop' });
      i += 1;
      continue;
    }
    const length = area[i + 1];
    if (length === undefined || length < 2 || i + length > area.length) {
      options.push({ type: 'raw', bytes: area.subarray(i) });
      return options;
    }
    const data = area.subarray(i + 2, i + length);
    options.push(decodeKnownOption(kind, data) ?? { type: 'unknown', kind, data });
    i += length;
  }
  return options;
}

/** Writes options at `offset` and zero-pads to a 4-byte boundary; returns the offset past them. */
export function writeTcpOptions(target: Uint8Array, offset: number, options: readonly TcpOption[]): number {
  let i = offset;
  for (const option of options) {
    switch (option.type) {
      case 'eol':
        target[i++] = TcpOptionKind.eol;
        break;
      case 'nop':
        target[i++] = TcpOptionKind.nop;
        break;
      case 'mss':
        target[i++] = TcpOptionKind.mss;
        target[i++] = 4;
        target[i++] = option.mss >> 8;
        target[i++] = option.mss & 0xff;
        break;
      case 'window-scale':
        target[i++] = TcpOptionKind.windowScale;
        target[i++] = 3;
        target[i++] = option.shift;
        break;
      case 'sack-permitted':
        target[i++] = TcpOptionKind.sackPermitted;
        target[i++] = 2;
        break;
      case 'sack':
        target[i++] = TcpOptionKind.sack;
        target[i++] = 2 + 8 * option.blocks.length;
        for (const block of option.blocks) {
          writeUint32(target, i, block.left);
          writeUint32(target, i + 4, block.right);
          i += 8;
        }
        break;
      case 'timestamps':
        target[i++] = TcpOptionKind.timestamps;
        target[i++] = 10;
        writeUint32(target, i, option.value);
        writeUint32(target, i + 4, option.echoReply);
        i += 8;
        break;
      case 'fast-open':
        target[i++] = TcpOptionKind.fastOpen;
        target[i++] = 2 + option.cookie.length;
        target.set(option.cookie, i);
        i += option.cookie.length;
        break;
      case 'unknown':
        target[i++] = option.kind;
        target[i++] = 2 + option.data.length;
        target.set(option.data, i);
        i += option.data.length;
        break;
      case 'raw':
        target.set(option.bytes, i);
        i += option.bytes.length;
        break;
    }
  }
  while ((i - offset) % 4 !== 0) target[i++] = 0;
  return i;
}

export function serializeTcpOptions(options: readonly TcpOption[]): Uint8Array {
  const bytes = new Uint8Array(paddedTcpOptionsLength(options));
  writeTcpOptions(bytes, 0, options);
  return bytes;
}
