import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnexpectedFileError } from '../../../harness/patched-kernel/file-edit.ts';
import { setToaOptionKind, toaOptionKindOf } from '../../../harness/patched-kernel/toa-header.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const ours = readFileSync(join(import.meta.dirname, '../../../native/toa-intree/toa.h'), 'utf8');

describe('net/toa/toa.h: TCPOPT_TOA 200 -> 254 (guide step 3.2)', () => {
  it.each([
    ['the LVS 2.6.32 tree', fixture('lvs-toa.h')],
    ["toa-lab's in-tree form", ours],
  ])('edits %s, and only that line', (_label, header) => {
    expect(toaOptionKindOf(header)).toBe(200);
    const edit = setToaOptionKind(header, 254);
    expect(edit.changed).toBe(true);
    expect(edit.summary).toBe('TCPOPT_TOA 200 -> 254');
    expect(toaOptionKindOf(edit.content)).toBe(254);
    expect(edit.content.split('\n')).toContain('#define TCPOPT_TOA 254');
    const before = header.split('\n');
    const after = edit.content.split('\n');
    expect(after.length).toBe(before.length);
    expect(after.filter((line, i) => line !== before[i])).toEqual(['#define TCPOPT_TOA 254']);
  });

  it('is idempotent: a second run changes nothing and says so', () => {
    const once = setToaOptionKind(fixture('lvs-toa.h'), 254);
    const twice = setToaOptionKind(once.content, 254);
    expect(twice).toEqual({ content: once.content, changed: false, summary: 'TCPOPT_TOA already 254' });
  });

  it('takes the kind as a parameter (253, back to 200)', () => {
    expect(toaOptionKindOf(setToaOptionKind(ours, 253).content)).toBe(253);
    expect(setToaOptionKind(ours, 200).changed).toBe(false);
  });

  it("refuses the guide's glued spelling, a missing or a doubled define", () => {
    expect(() => setToaOptionKind('#define TCPOPT_TOA200\n', 254)).toThrow(/glued/);
    expect(() => setToaOptionKind('#define TCPOLEN_TOA 8\n', 254)).toThrow(UnexpectedFileError);
    expect(() => setToaOptionKind('#define TCPOPT_TOA 200\n#define TCPOPT_TOA 201\n', 254)).toThrow(/found 2/);
    expect(() => setToaOptionKind('#define TCPOPT_TOA TOA_KIND\n', 254)).toThrow(/decimal kind/);
  });

  it('refuses unusable kinds', () => {
    for (const kind of [0, 1, 256, 2.5]) expect(() => setToaOptionKind(ours, kind)).toThrow(RangeError);
  });
});
