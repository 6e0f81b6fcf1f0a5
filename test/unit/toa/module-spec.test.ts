import { describe, expect, it } from 'vitest';
import { describeModuleSpec, ModuleSpecError, moduleSpecFrom, parseKinds, splitNamed } from '../../../harness/toa/module-spec.ts';

describe('module spec (--toa-source/--toa-ko [NAME=], --module-kinds [NAME=])', () => {
  it('without flags: toa-lab\'s module, accepting the kind the balancer sends', () => {
    expect(moduleSpecFrom({}, 254)).toEqual({ name: 'toa-lab', choice: { origin: 'toa-lab' }, kinds: [254], kindsDeclared: false });
    expect(moduleSpecFrom({}, 200).kinds).toEqual([200]);
  });

  it('the existing flags keep working; a NAME= prefix names the module', () => {
    expect(moduleSpecFrom({ toaSource: '/srv/TCP_option_address' }, 254)).toMatchObject({ name: 'tcp_option_address', choice: { origin: 'source', location: '/srv/TCP_option_address' } });
    expect(moduleSpecFrom({ toaSource: 'https://example.com/x/toa.git' }, 254)).toMatchObject({ name: 'toa', choice: { location: 'https://example.com/x/toa.git' } });
    expect(moduleSpecFrom({ toaSource: 'ucloud=/srv/ucloud-toa', moduleKinds: 'ucloud=200,253,254' }, 200)).toEqual({
      name: 'ucloud',
      choice: { origin: 'source', location: '/srv/ucloud-toa' },
      kinds: [200, 253, 254],
      kindsDeclared: true,
    });
    expect(moduleSpecFrom({ toaKo: 'x=./toa.ko' }, 254, { resolvePath: (p) => `/abs/${p}` })).toMatchObject({ name: 'x', choice: { origin: 'prebuilt', path: '/abs/./toa.ko' } });
  });

  it('a path that has "=" in it stays a path: a URL, or a file that is there', () => {
    expect(splitNamed('https://example.com/toa.tar.gz?ref=main')).toEqual({ value: 'https://example.com/toa.tar.gz?ref=main' });
    expect(splitNamed('/srv/a=b')).toEqual({ value: '/srv/a=b' });
    expect(splitNamed('odd=dir', (p) => p === 'odd=dir')).toEqual({ value: 'odd=dir' });
    expect(splitNamed('odd=dir')).toEqual({ name: 'odd', value: 'dir' });
  });

  it('--module-kinds without a name applies to the one module; with one, it must be the module\'s', () => {
    expect(moduleSpecFrom({ moduleKinds: '200,253,254' }, 254).kinds).toEqual([200, 253, 254]);
    expect(moduleSpecFrom({ moduleKinds: 'toa-lab=200' }, 254).kinds).toEqual([200]);
    expect(() => moduleSpecFrom({ toaSource: 'ucloud=/srv/u', moduleKinds: 'tencent=200' }, 254)).toThrow(/names module 'tencent', but the module under test is 'ucloud'/);
  });

  it('malformed kinds are clear errors', () => {
    for (const [text, message] of [
      ['', /wants KIND\[,KIND...\]/],
      ['200,,254', /wants KIND/],
      ['200,x', /'x' is not a TCP option kind/],
      ['1', /'1' is not a TCP option kind a module can accept \(2–255\)/],
      ['256', /'256' is not/],
      ['200,200', /kind 200 is given twice/],
      ['-5', /'-5' is not/],
    ] as const) {
      expect(() => parseKinds(text), text).toThrow(ModuleSpecError);
      expect(() => parseKinds(text), text).toThrow(message);
    }
    expect(() => moduleSpecFrom({ moduleKinds: '2,3,4,5,6,7,8,9,10' }, 254)).toThrow(/at most 8 kinds/);
    expect(() => moduleSpecFrom({ toaSource: 'a', toaKo: 'b' }, 254)).toThrow(/exclude each other/);
    expect(() => moduleSpecFrom({ toaSource: 'ucloud=' }, 254)).toThrow(/no location after the name/);
  });

  it('describes itself for the report', () => {
    expect(describeModuleSpec(moduleSpecFrom({ moduleKinds: '200,253,254' }, 254))).toBe("module 'toa-lab' accepting kinds 200, 253, 254");
    expect(describeModuleSpec(moduleSpecFrom({}, 254))).toBe("module 'toa-lab' accepting kind 254 (the balancer's, none declared)");
  });
});
