import { describe, expect, it } from 'vitest';
import { moduleVerdict } from '../../../harness/runner/module-verdict.ts';
import { check, type Check, type CheckKind, type ScenarioOutcome } from '../../../harness/core/scenario.ts';

const load = (kind: CheckKind, passed: boolean): Check => ({ ...check('toa.ko loads (dmesg | grep TOA)', passed, 'loaded', 'x'), kind });
const traffic = (passed: boolean): Check => check('each connection saw its client', passed, 'client', 'x');
const outcome = (scenario: string, ...checks: Check[]): ScenarioOutcome => ({ scenario, title: scenario, checks, durationMs: 1 });

describe('moduleVerdict', () => {
  it('"init incomplete on reload" when a whole load came first, whatever followed', () => {
    expect(
      moduleVerdict([
        outcome('fullnat-toa-v4', load('module-load', true), traffic(true)),
        outcome('fullnat-no-toa', load('module-init-incomplete', false), traffic(false)),
        outcome('toa-kind-filter', load('module-init-incomplete', false), traffic(false)),
      ]),
    ).toBe('init incomplete on reload');
  });

  it('"init incomplete" when the very first load was already half-way', () => {
    expect(moduleVerdict([outcome('fullnat-toa-v4', load('module-init-incomplete', false), traffic(false))])).toBe('init incomplete');
  });

  it('the first load failure decides: refused first is "did not load", even if a later load is incomplete', () => {
    expect(
      moduleVerdict([outcome('a', load('module-load', false)), outcome('b', load('module-load', true)), outcome('c', load('module-init-incomplete', false))]),
    ).toBe('did not load');
    expect(moduleVerdict([outcome('a', load('module-init-incomplete', false)), outcome('b', load('module-load', false))])).toBe('init incomplete');
  });

  it('an incomplete init outranks the faults and wrong addresses that follow from it', () => {
    const faults: Check = { ...check('kernel unhurt', false, 'none', '1'), kind: 'kernel-faults' };
    expect(moduleVerdict([outcome('a', load('module-load', true)), outcome('b', load('module-init-incomplete', false), faults)])).toBe(
      'init incomplete on reload',
    );
  });

  it('unchanged otherwise: crashed, wrong address, passed', () => {
    const faults: Check = { ...check('kernel unhurt', false, 'none', '1'), kind: 'kernel-faults' };
    expect(moduleVerdict([outcome('a', load('module-load', true), faults)])).toBe('crashed the guest');
    expect(moduleVerdict([outcome('a', load('module-load', true), traffic(false))])).toMatch(/^loaded but reported a wrong address/);
    expect(moduleVerdict([outcome('a', load('module-load', true), traffic(true))])).toBe('passed');
  });
});
