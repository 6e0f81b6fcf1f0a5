import { describe, expect, it } from 'vitest';
import { appendExtraversion, makefileRelease } from '../../../harness/patched-kernel/kernel-makefile.ts';

const RHEL6 = 'VERSION = 2\nPATCHLEVEL = 6\nSUBLEVEL = 32\nEXTRAVERSION = -220.23.1.el6.x86_64\nNAME = Man-Eating Seals of Antiquity\n';
const LINUX61 = '# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = Curry Ramen\n';

describe('Makefile EXTRAVERSION suffix (guide step 3.4)', () => {
  it('appends the suffix to a RHEL EXTRAVERSION and to an empty one', () => {
    const rhel = appendExtraversion(RHEL6, '-toa');
    expect(rhel.content).toContain('EXTRAVERSION = -220.23.1.el6.x86_64-toa\n');
    expect(makefileRelease(rhel.content)).toBe('2.6.32-220.23.1.el6.x86_64-toa');
    const mainline = appendExtraversion(LINUX61, '-toa');
    expect(mainline.content).toContain('\nEXTRAVERSION =-toa\n');
    expect(makefileRelease(mainline.content)).toBe('6.1.192-toa');
    expect(mainline.content.replace('EXTRAVERSION =-toa', 'EXTRAVERSION =')).toBe(LINUX61);
  });

  it('is idempotent', () => {
    const once = appendExtraversion(LINUX61, '-toa');
    expect(appendExtraversion(once.content, '-toa')).toEqual({ content: once.content, changed: false, summary: 'EXTRAVERSION already ends with -toa' });
  });

  it('refuses a Makefile that is not the top-level kernel one, or an unsafe suffix', () => {
    expect(() => appendExtraversion('obj-y += toa.o\n', '-toa')).toThrow(/found none/);
    expect(() => appendExtraversion(`${LINUX61}EXTRAVERSION = -rc1\n`, '-toa')).toThrow(/one `EXTRAVERSION =` line/);
    expect(() => appendExtraversion('EXTRAVERSION =\n', '-toa')).toThrow(/VERSION and PATCHLEVEL/);
    expect(() => appendExtraversion(LINUX61, '-t oa')).toThrow(RangeError);
  });
});
