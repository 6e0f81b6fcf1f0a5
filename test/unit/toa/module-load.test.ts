import { describe, expect, it } from 'vitest';
import { classifyModuleLoad, findPositiveInitReturn } from '../../../harness/toa/module-load.ts';

// Kernel logs as the micro-VMs printed them for the reload fixture (test/e2e/fixtures/toa-reload-positive):
// Debian's 5.10.223 (6.1.192 and 6.12.117 print the same two lines and a stack dump), and
// trixie-backports' 7.2.12, whose kernel words it "<module>: init …" with no stack dump.
const RELOAD_5_10 = `[    8.292362] TOA: toa unloaded (0 open connection entries freed)
[    8.344142] TOA: toa 1.1 (reload fixture) starting
[    8.727272] TOA: hooked inet_getname
[    8.727392] do_init_module: 'toa'->init suspiciously returned 1, it should follow 0/-E convention
[    8.727392] do_init_module: loading module anyway...
[    8.728118] CPU: 0 PID: 162 Comm: insmod Tainted: G           OE     5.10.0-32-amd64 #1 Debian 5.10.223-1
[    8.728712] Call Trace:
[    8.730612]  dump_stack+0x6b/0x83`;
const NEWER_WORDING = '[    8.767528] toa: init suspiciously returned 1, it should follow 0/-E convention';
const FIRST_LOAD = `[    6.443369] TOA: toa 1.1 (reload fixture) starting
[    6.518333] TOA: toa loaded (kinds 254, trusted sources 0 = any, ipv6 on, max_entries 65536, rx netfilter+tracepoints)`;

describe('findPositiveInitReturn', () => {
  it("reads the module and the value from either wording of the kernel's warning", () => {
    expect(findPositiveInitReturn(RELOAD_5_10)).toEqual({
      module: 'toa',
      value: 1,
      line: "do_init_module: 'toa'->init suspiciously returned 1, it should follow 0/-E convention",
    });
    expect(findPositiveInitReturn(NEWER_WORDING)).toEqual({ module: 'toa', value: 1, line: 'toa: init suspiciously returned 1, it should follow 0/-E convention' });
  });

  it('finds nothing in a whole load or a refused one', () => {
    expect(findPositiveInitReturn(FIRST_LOAD)).toBeUndefined();
    expect(findPositiveInitReturn('[ 9.8] TOA: toa_kinds: 1 is not a usable option kind (2..255)')).toBeUndefined();
  });
});

describe('classifyModuleLoad', () => {
  it('loaded: exit 0, listed, the loaded line', () => {
    expect(classifyModuleLoad({ insmodExitCode: 0, listed: true, loadedLine: true, kernelLog: FIRST_LOAD })).toEqual({ state: 'loaded' });
  });

  it('init incomplete: exit 0 and listed, no loaded line — with the kernel line when it printed one', () => {
    expect(classifyModuleLoad({ insmodExitCode: 0, listed: true, loadedLine: false, kernelLog: RELOAD_5_10 })).toMatchObject({
      state: 'init-incomplete',
      positiveReturn: { module: 'toa', value: 1 },
    });
    // An init that gave up and returned 0 leaves no kernel line, and is just as incomplete.
    expect(classifyModuleLoad({ insmodExitCode: 0, listed: true, loadedLine: false, kernelLog: '[ 1.0] TOA: banner' })).toEqual({
      state: 'init-incomplete',
    });
  });

  it('refused: insmod failed and nothing is listed (a bad parameter, vermagic)', () => {
    expect(classifyModuleLoad({ insmodExitCode: 22, listed: false, loadedLine: false, kernelLog: '' })).toEqual({ state: 'refused' });
    expect(classifyModuleLoad({ insmodExitCode: 0, listed: false, loadedLine: true, kernelLog: '' }).state).toBe('refused');
  });

  it('already loaded: insmod failed but a copy is listed ("File exists")', () => {
    expect(classifyModuleLoad({ insmodExitCode: 17, listed: true, loadedLine: false, kernelLog: '' }).state).toBe('already-loaded');
  });
});
