import { describe, expect, it } from 'vitest';
import { describeModuleSpec, ModuleSpecError, moduleSpecsFrom, namedModulesFrom, parseKinds, splitNamed, type ModuleSpecFlags } from '../../../harness/toa/module-spec.ts';

/** One module's spec, from one flag each (what a one-module run gives). */
function moduleSpecFrom(flags: { toaSource?: string; toaKo?: string; moduleKinds?: string }, balancerKind: number, io: Parameters<typeof moduleSpecsFrom>[2] = {}) {
  const many: ModuleSpecFlags = {
    toaSource: flags.toaSource === undefined ? [] : [flags.toaSource],
    toaKo: flags.toaKo === undefined ? [] : [flags.toaKo],
    moduleKinds: flags.moduleKinds === undefined ? [] : [flags.moduleKinds],
  };
  const specs = moduleSpecsFrom(many, balancerKind, io);
  expect(specs).toHaveLength(1);
  return specs[0]!;
}

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
    expect(() => moduleSpecFrom({ toaSource: 'ucloud=' }, 254)).toThrow(/no location after the name/);
  });

  it('several modules: each named, in flag order; ours by keyword; names never shared', () => {
    const specs = moduleSpecsFrom({ toaSource: ['ours', 'huawei=/srv/huawei', '/srv/TCP_option_address'], toaKo: ['ucloud=/srv/u/toa.ko'] }, 254);
    expect(specs.map((s) => [s.name, s.choice.origin])).toEqual([
      ['toa-lab', 'toa-lab'],
      ['huawei', 'source'],
      ['tcp_option_address', 'source'],
      ['ucloud', 'prebuilt'],
    ]);
    expect(namedModulesFrom({ toaSource: ['mine=ours'] })).toEqual([{ name: 'mine', choice: { origin: 'toa-lab' } }]);
    expect(namedModulesFrom({ toaSource: ['./ours'] })[0]!.choice).toEqual({ origin: 'source', location: './ours' });
    expect(namedModulesFrom({})).toEqual([{ name: 'toa-lab', choice: { origin: 'toa-lab' } }]);
    expect(() => namedModulesFrom({ toaSource: ['/a/toa', '/b/toa'] })).toThrow(/two modules are named 'toa': name each with NAME=/);
    expect(() => namedModulesFrom({ toaSource: ['ours'], toaKo: ['toa-lab=/x.ko'] })).toThrow(/two modules are named 'toa-lab'/);
  });

  it('--module-kinds per module: NAME= picks the module; bare only with one; unknown or twice is an error', () => {
    const flags = { toaSource: ['ours', 'ucloud=/srv/u'], moduleKinds: ['ucloud=200,253,254'] };
    const [ours, ucloud] = moduleSpecsFrom(flags, 254);
    expect(ours).toMatchObject({ name: 'toa-lab', kinds: [254], kindsDeclared: false });
    expect(ucloud).toMatchObject({ name: 'ucloud', kinds: [200, 253, 254], kindsDeclared: true });
    expect(() => moduleSpecsFrom({ ...flags, moduleKinds: ['200'] }, 254)).toThrow(/2 modules are under test \(toa-lab, ucloud\); say whose kinds, e.g. --module-kinds toa-lab=200/);
    expect(() => moduleSpecsFrom({ ...flags, moduleKinds: ['tencent=200'] }, 254)).toThrow(/'tencent', which is not among the modules under test \(toa-lab, ucloud\)/);
    expect(() => moduleSpecsFrom({ ...flags, moduleKinds: ['ucloud=200', 'ucloud=254'] }, 254)).toThrow(/'ucloud' is given kinds twice/);
    expect(() => moduleSpecsFrom({ ...flags, moduleKinds: ['toa-lab=2,3,4,5,6,7,8,9,10'] }, 254)).toThrow(/at most 8 kinds/);
  });

  it('describes itself for the report', () => {
    expect(describeModuleSpec(moduleSpecFrom({ moduleKinds: '200,253,254' }, 254))).toBe("module 'toa-lab' accepting kinds 200, 253, 254");
    expect(describeModuleSpec(moduleSpecFrom({}, 254))).toBe("module 'toa-lab' accepting kind 254 (the balancer's, none declared)");
  });
});
