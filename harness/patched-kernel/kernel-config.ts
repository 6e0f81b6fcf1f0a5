import { quoteLine, UnexpectedFileError, unchanged, chainEdits, type FileEdit } from './file-edit.ts';

/**
 * Guide step 3.3 on the kernel's .config:
 *   sed -i 's/CONFIG_IPV6=m/CONFIG_IPV6=y/g' .config
 *   echo -e '\n# toa\nCONFIG_TOA=m' >> .config
 * as pure edits. Departures from the literal text, each to avoid a config
 * that kbuild would read differently than the guide means:
 * - CONFIG_IPV6 already =y (most configs) is reported as such and left alone;
 *   a .config with IPv6 not set at all is refused (the guide assumes =m or =y).
 * - CONFIG_TOA already =m: nothing is appended (the step can run twice).
 *   `# CONFIG_TOA is not set` or `CONFIG_TOA=y` is rewritten in place rather
 *   than followed by a second, conflicting line (kconfig would warn "override").
 */
export type ConfigValue = { state: 'set'; value: string } | { state: 'not set' } | { state: 'absent' };

export function configValue(config: string, symbol: string): ConfigValue {
  const lines = symbolLines(config, symbol);
  const line = lines.at(-1); // kconfig: the last assignment wins
  if (line === undefined) return { state: 'absent' };
  if (line.startsWith('#')) return { state: 'not set' };
  return { state: 'set', value: line.slice(line.indexOf('=') + 1) };
}

export function enableIpv6BuiltIn(config: string): FileEdit {
  assertKernelConfig(config);
  const value = configValue(config, 'IPV6');
  const lines = symbolLines(config, 'IPV6');
  if (lines.length > 1) throw new UnexpectedFileError('.config', 'one CONFIG_IPV6 line', lines.map(quoteLine).join(', '));
  if (value.state === 'set' && value.value === 'y') return unchanged(config, 'CONFIG_IPV6 already y');
  if (value.state === 'set' && value.value === 'm') {
    return { content: config.replace(/^CONFIG_IPV6=m$/m, 'CONFIG_IPV6=y'), changed: true, summary: 'CONFIG_IPV6 m -> y' };
  }
  throw new UnexpectedFileError(
    '.config',
    'CONFIG_IPV6=m (or =y)',
    value.state === 'set' ? `CONFIG_IPV6=${value.value}` : value.state === 'not set' ? '# CONFIG_IPV6 is not set' : 'no CONFIG_IPV6 line',
  );
}

export function enableToaModule(config: string): FileEdit {
  assertKernelConfig(config);
  const lines = symbolLines(config, 'TOA');
  if (lines.length > 1) throw new UnexpectedFileError('.config', 'at most one CONFIG_TOA line', lines.map(quoteLine).join(', '));
  const line = lines[0];
  if (line === 'CONFIG_TOA=m') return unchanged(config, 'CONFIG_TOA already m');
  if (line !== undefined) {
    return {
      content: config.replace(line, 'CONFIG_TOA=m'),
      changed: true,
      summary: `${line} -> CONFIG_TOA=m (in place)`,
    };
  }
  const base = config.endsWith('\n') ? config : `${config}\n`;
  return { content: `${base}\n# toa\nCONFIG_TOA=m\n`, changed: true, summary: 'appended CONFIG_TOA=m' };
}

/** Step 3.3 as a whole: IPv6 built in, TOA as a module. */
export function applyGuideConfig(config: string): FileEdit {
  return chainEdits(config, [enableIpv6BuiltIn, enableToaModule]);
}

function symbolLines(config: string, symbol: string): string[] {
  const set = new RegExp(`^CONFIG_${symbol}=.*$`);
  const notSet = new RegExp(`^# CONFIG_${symbol} is not set$`);
  return config.split('\n').filter((line) => set.test(line) || notSet.test(line));
}

function assertKernelConfig(config: string): void {
  if (!/^CONFIG_\w+=/m.test(config)) {
    const first = config.split('\n').find((l) => l.trim()) ?? '(empty file)';
    throw new UnexpectedFileError('.config', 'a kernel configuration (CONFIG_* lines)', `no CONFIG_ assignment; first line ${quoteLine(first)}`);
  }
}
