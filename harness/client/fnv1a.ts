/**
 * FNV-1a 64-bit, the hash toa-backend logs for every request and response
 * body: the guest's own account of the bytes it received and sent.
 */
const OFFSET_BASIS = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

export function fnv1a64(data: Uint8Array): string {
  // Two 32-bit halves in plain numbers: BigInt per byte would make 10 MiB take seconds.
  let hi = Number(OFFSET_BASIS >> 32n);
  let lo = Number(OFFSET_BASIS & 0xffffffffn);
  const primeLo = Number(PRIME & 0xffffffffn); // 0x1b3
  const primeHiShift = Number(PRIME >> 32n); // 0x100: prime = 2^40 + 0x1b3
  for (let i = 0; i < data.length; i++) {
    lo = (lo ^ data[i]!) >>> 0; // ^ yields a signed int32: bring it back to unsigned
    // (hi:lo) * (2^40 + 0x1b3) mod 2^64
    const loTimes = lo * primeLo;
    const newLo = loTimes >>> 0;
    const carry = Math.floor(loTimes / 0x100000000);
    const newHi = (Math.imul(hi, primeLo) + carry + Math.imul(lo, primeHiShift)) >>> 0;
    lo = newLo;
    hi = newHi;
  }
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString(16).padStart(16, '0');
}

/** Reference implementation for tests. */
export function fnv1a64Reference(data: Uint8Array): string {
  let hash = OFFSET_BASIS;
  for (const byte of data) hash = ((hash ^ BigInt(byte)) * PRIME) & MASK;
  return hash.toString(16).padStart(16, '0');
}

/** The body toa-backend serves for GET /bytes/N: byte i = (i * 31 + (i >> 11)) & 0xff. */
export function backendPatternBytes(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 11)) & 0xff;
  return bytes;
}
