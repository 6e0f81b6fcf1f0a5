import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  findFastOpenOption,
  isFastOpenCookieLength,
  parseTcpOptions,
  serializeTcpOptions,
  tcpOptionLength,
  type TcpOption,
} from '../../../../harness/net/codec/tcp-options.ts';
import {
  decodeTcpFlags,
  isTcpChecksumValidIpv4,
  parseTcpSegment,
  serializeTcpSegment,
  tcpFlags,
  type TcpSegment,
} from '../../../../harness/net/codec/tcp.ts';
import { ParseError } from '../../../../harness/net/codec/parse-error.ts';
import { hex, uint16, uint32 } from '../helpers/arbitraries.ts';

const SOURCE = Uint8Array.of(192, 0, 2, 2);
const DESTINATION = Uint8Array.of(192, 0, 2, 10);

// A Linux-style SYN from 192.0.2.2:49152 to 192.0.2.10:80, seq 0x12345678, window 64240, with
// MSS 1460, SACK-permitted, timestamps (TSval 1, TSecr 0), NOP, window scale 7.
// Checksum by hand: pseudo-header c000+0202+c000+020a+0006+0028 = 0x1843a; the 20 header
// words with checksum 0 sum to 0x2dbbd (c000+0050+1234+5678+a002+faf0+0204+05b4+0402+080a
// +0001+0103+0307); total 0x45ff7 → fold 0x5ff7 + 0x4 = 0x5ffb → ~0x5ffb = 0xa004.
const LINUX_SYN = hex(`
  c0 00 00 50  12 34 56 78  00 00 00 00  a0 02 fa f0  a0 04 00 00
  02 04 05 b4  04 02  08 0a 00 00 00 01 00 00 00 00  01  03 03 07
`);

describe('tcp segment', () => {
  it('parses a known-good SYN with the usual options', () => {
    const segment = parseTcpSegment(LINUX_SYN);
    expect(segment).toEqual({
      sourcePort: 49152,
      destinationPort: 80,
      sequenceNumber: 0x12345678,
      acknowledgmentNumber: 0,
      reservedBits: 0,
      flags: tcpFlags('syn'),
      window: 64240,
      checksum: 0xa004,
      urgentPointer: 0,
      options: [
        { type: 'mss', mss: 1460 },
        { type: 'sack-permitted' },
        { type: 'timestamps', value: 1, echoReply: 0 },
        { type: 'nop' },
        { type: 'window-scale', shift: 7 },
      ],
      payload: new Uint8Array(0),
    });
    expect(isTcpChecksumValidIpv4(LINUX_SYN, SOURCE, DESTINATION)).toBe(true);
  });

  it('computes the same checksum when serializing', () => {
    const { checksum: _, ...segment } = parseTcpSegment(LINUX_SYN);
    expect(serializeTcpSegment(segment, SOURCE, DESTINATION)).toEqual(LINUX_SYN);
  });

  it('detects a corrupted segment or the wrong pseudo-header', () => {
    const corrupted = Uint8Array.from(LINUX_SYN);
    corrupted[15] = corrupted[15]! ^ 1;
    expect(isTcpChecksumValidIpv4(corrupted, SOURCE, DESTINATION)).toBe(false);
    expect(isTcpChecksumValidIpv4(LINUX_SYN, SOURCE, Uint8Array.of(192, 0, 2, 11))).toBe(false);
  });

  it('decodes all eight flag bits', () => {
    expect(decodeTcpFlags(0xff)).toEqual(tcpFlags('fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr'));
  });

  it('refuses a data offset below 5 or past the end with ParseError', () => {
    const small = Uint8Array.from(LINUX_SYN);
    small[12] = 0x40;
    expect(() => parseTcpSegment(small)).toThrow(ParseError);
    expect(() => parseTcpSegment(LINUX_SYN.subarray(0, 30))).toThrow(ParseError);
  });

  it('refuses to serialize more than 40 bytes of options', () => {
    const options: TcpOption[] = [{ type: 'raw', bytes: new Uint8Array(41) }];
    expect(() => serializeTcpSegment({ ...baseSegment(), options }, SOURCE, DESTINATION)).toThrow(RangeError);
  });

  it('round-trips arbitrary well-formed segments', () => {
    fc.assert(
      fc.property(arbitrarySegment, (segment) => {
        const bytes = serializeTcpSegment(segment, SOURCE, DESTINATION);
        expect(isTcpChecksumValidIpv4(bytes, SOURCE, DESTINATION)).toBe(true);
        const { checksum, ...parsed } = parseTcpSegment(bytes);
        expect(parsed).toEqual(segment);
        expect(serializeTcpSegment({ ...parsed, checksum }, SOURCE, DESTINATION)).toEqual(bytes);
      }),
    );
  });

  it('re-serializes any parseable header byte for byte (hostile option areas included)', () => {
    // Random bytes with a data offset that fits them: every option area a peer could send.
    const arbitraryHeaderBytes = fc
      .integer({ min: 0, max: 10 })
      .chain((words) => fc.tuple(fc.constant(words), fc.uint8Array({ minLength: 20 + words * 4, maxLength: 20 + words * 4 + 8 })))
      .map(([words, bytes]) => {
        const copy = Uint8Array.from(bytes);
        copy[12] = ((5 + words) << 4) | (copy[12]! & 0x0f);
        return copy;
      });
    fc.assert(
      fc.property(arbitraryHeaderBytes, (bytes) => {
        const segment = parseTcpSegment(bytes);
        // Verbatim checksum: only the layout is being compared here.
        expect(serializeTcpSegment(segment, SOURCE, DESTINATION)).toEqual(bytes);
      }),
    );
  });
});

describe('tcp options', () => {
  it('keeps unknown kinds (TOA) byte-exact', () => {
    const area = hex('fe 08 9c 41 c6 33 64 07');
    expect(parseTcpOptions(area)).toEqual([{ type: 'unknown', kind: 254, data: hex('9c 41 c6 33 64 07') }]);
    expect(serializeTcpOptions(parseTcpOptions(area))).toEqual(area);
  });

  it('keeps malformed options as raw bytes: length 0, 1, past the end', () => {
    for (const area of [hex('fe 00 00 00'), hex('fe 01 00 00'), hex('01 01 fe ff 9c 41 c6 33')]) {
      const options = parseTcpOptions(area);
      expect(options.at(-1)?.type).toBe('raw');
      expect(serializeTcpOptions(options)).toEqual(area);
    }
  });

  it('keeps bytes after EOL', () => {
    const area = hex('00 fe 08 9c 41 c6 33 64 07 00 00 00');
    expect(parseTcpOptions(area)).toEqual([{ type: 'eol' }, { type: 'raw', bytes: area.subarray(1) }]);
    expect(serializeTcpOptions(parseTcpOptions(area))).toEqual(area);
  });

  it('treats zero padding after EOL as implied', () => {
    expect(parseTcpOptions(hex('02 04 05 b4 01 00 00 00'))).toEqual([{ type: 'mss', mss: 1460 }, { type: 'nop' }, { type: 'eol' }]);
  });

  it('reads a known kind with the wrong length as unknown, not as that kind', () => {
    expect(parseTcpOptions(hex('02 03 05 01'))).toEqual([{ type: 'unknown', kind: 2, data: hex('05') }, { type: 'nop' }]);
  });

  it('reads TCP Fast Open (kind 34): a cookie request, an 8-byte cookie, and lengths Linux ignores', () => {
    expect(parseTcpOptions(hex('22 02 01 01'))).toEqual([{ type: 'fast-open', cookie: new Uint8Array(0) }, { type: 'nop' }, { type: 'nop' }]);
    const withCookie = hex('22 0a 01 02 03 04 05 06 07 08 01 01');
    expect(findFastOpenOption(parseTcpOptions(withCookie))).toEqual(hex('01 02 03 04 05 06 07 08'));
    expect(serializeTcpOptions(parseTcpOptions(withCookie))).toEqual(withCookie);
    // 3 bytes (too short) and 5 (odd): Linux's tcp_parse_fastopen_option takes neither as a cookie.
    expect(parseTcpOptions(hex('22 05 01 02 03 01 01 01'))[0]).toEqual({ type: 'unknown', kind: 34, data: hex('01 02 03') });
    expect(parseTcpOptions(hex('22 07 01 02 03 04 05 01'))[0]).toEqual({ type: 'unknown', kind: 34, data: hex('01 02 03 04 05') });
    expect(findFastOpenOption(parseTcpOptions(hex('22 05 01 02 03 01 01 01')))).toBeUndefined();
  });

  it('kind 34 of any length: a fast-open entry exactly when Linux would read it, and byte-exact either way', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 36 }), (data) => {
        const area = Uint8Array.from([34, 2 + data.length, ...data]);
        const options = parseTcpOptions(area);
        expect(options[0]!.type).toBe(isFastOpenCookieLength(data.length) ? 'fast-open' : 'unknown');
        expect(tcpOptionLength(options[0]!)).toBe(area.length);
        expect(serializeTcpOptions(options).subarray(0, area.length)).toEqual(area);
      }),
    );
  });

  it('decodes SACK blocks', () => {
    const area = hex('01 01 05 0a 00 00 00 10 00 00 00 20');
    expect(parseTcpOptions(area)).toEqual([{ type: 'nop' }, { type: 'nop' }, { type: 'sack', blocks: [{ left: 16, right: 32 }] }]);
  });
});

function baseSegment(): TcpSegment {
  return {
    sourcePort: 1,
    destinationPort: 2,
    sequenceNumber: 3,
    acknowledgmentNumber: 4,
    flags: tcpFlags('ack'),
    reservedBits: 0,
    window: 5,
    urgentPointer: 0,
    options: [],
    payload: new Uint8Array(0),
  };
}

const arbitraryOption: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ type: 'nop' }),
  uint16.map((mss): TcpOption => ({ type: 'mss', mss })),
  fc.integer({ min: 0, max: 255 }).map((shift): TcpOption => ({ type: 'window-scale', shift })),
  fc.constant<TcpOption>({ type: 'sack-permitted' }),
  fc.tuple(uint32, uint32).map(([value, echoReply]): TcpOption => ({ type: 'timestamps', value, echoReply })),
  fc
    .array(fc.tuple(uint32, uint32), { minLength: 1, maxLength: 3 })
    .map((blocks): TcpOption => ({ type: 'sack', blocks: blocks.map(([left, right]) => ({ left, right })) })),
  fc
    .integer({ min: 0, max: 6 })
    .chain((n) => fc.uint8Array({ minLength: n === 0 ? 0 : 2 + 2 * n, maxLength: n === 0 ? 0 : 2 + 2 * n }))
    .map((cookie): TcpOption => ({ type: 'fast-open', cookie })),
  fc
    // Kind 34 with a cookie length Linux reads is the fast-open entry above, not `unknown`.
    .tuple(fc.integer({ min: 6, max: 255 }).filter((kind) => kind !== 8 && kind !== 34), fc.uint8Array({ maxLength: 10 }))
    .map(([kind, data]): TcpOption => ({ type: 'unknown', kind, data })),
);

/** Option lists that fit in 40 bytes and fill whole words (NOPs added), as our sender makes them. */
const arbitraryOptions = fc.array(arbitraryOption, { maxLength: 6 }).map((options) => {
  const fitting: TcpOption[] = [];
  let length = 0;
  for (const option of options) {
    const size = tcpOptionLength(option);
    if (length + size > 40) break;
    fitting.push(option);
    length += size;
  }
  while (length % 4 !== 0) {
    fitting.push({ type: 'nop' });
    length++;
  }
  return fitting;
});

const arbitrarySegment: fc.Arbitrary<TcpSegment> = fc.record({
  sourcePort: uint16,
  destinationPort: uint16,
  sequenceNumber: uint32,
  acknowledgmentNumber: uint32,
  flags: fc.integer({ min: 0, max: 255 }).map(decodeTcpFlags),
  reservedBits: fc.integer({ min: 0, max: 15 }),
  window: uint16,
  urgentPointer: uint16,
  options: arbitraryOptions,
  payload: fc.uint8Array({ maxLength: 64 }),
});
