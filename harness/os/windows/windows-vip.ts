import { isIpv4 } from '../../net/codec/address.ts';

/**
 * The UCloud guide's Windows section ("Windows Configuration Method"), as one
 * PowerShell script for a Windows image reached over OpenSSH (cloudbase-init
 * reads the same NoCloud seed as cloud-init):
 *   1. add the loopback adapter — "Microsoft KM-TEST Loopback Adapter" from
 *      Windows 8 / Server 2012 on (the guide's note) — with devcon, the one
 *      scriptable form of the Device Manager's "Add Legacy Hardware" (devcon.exe
 *      comes with the Windows Driver Kit; the script says so if it is missing);
 *   2. the VIP on it, /32 (the guide's Step 2 picture: the LB's service IP);
 *   3. the guide's four `netsh … weakhostreceive/weakhostsend=enabled` lines,
 *      verbatim, for the local NIC and the loopback.
 * Not run here: no Windows image can be built or fetched on the lab's machines
 * (`toa-lab images list` says so); the rendering is checked statically.
 */
export interface WindowsVipOptions {
  vips: readonly string[];
  /** The backend's own NIC, `$LOCAL` in the guide (e.g. "Ethernet"). */
  localInterface: string;
  /** What the loopback adapter is renamed to, `$LO` in the guide. */
  loopbackName?: string;
}

export const WINDOWS_LOOPBACK_DESCRIPTION = 'Microsoft KM-TEST Loopback Adapter';

export function renderWindowsVip(options: WindowsVipOptions): string {
  const lo = options.loopbackName ?? 'lo';
  const problems = [
    ...options.vips.filter((vip) => !isIpv4(vip)).map((vip) => `VIP '${vip}' is not a dotted-quad IPv4 address`),
    ...[options.localInterface, lo].filter((name) => !/^[\w .-]+$/.test(name)).map((name) => `interface name '${name}' has characters PowerShell would interpret`),
  ];
  if (options.vips.length === 0) problems.push('name at least one VIP');
  if (problems.length) throw new Error(`cannot render the Windows VIP script:\n- ${problems.join('\n- ')}`);
  const quoted = (text: string) => `'${text}'`;
  return [
    '# toa-lab: the UCloud guide section for Windows (loopback adapter, VIP, weak host model).',
    '# Run as Administrator (OpenSSH on Windows runs it for the lab).',
    "$ErrorActionPreference = 'Stop'",
    `$LOCAL = ${quoted(options.localInterface)}`,
    `$LO = ${quoted(lo)}`,
    '',
    '# Step 1: Add lo Interface (Device Manager → Add Legacy Hardware → Microsoft → loopback adapter).',
    `$adapter = Get-NetAdapter -InterfaceDescription ${quoted(`${WINDOWS_LOOPBACK_DESCRIPTION}*`)} -ErrorAction SilentlyContinue | Select-Object -First 1`,
    'if (-not $adapter) {',
    '  $devcon = Get-Command devcon.exe -ErrorAction SilentlyContinue',
    "  if (-not $devcon) { throw 'toa-lab: no loopback adapter and no devcon.exe (Windows Driver Kit) to add one: add it in the Device Manager as the guide says' }",
    '  & $devcon.Source install "$env:windir\\inf\\netloop.inf" "*msloop" | Out-Null',
    `  $adapter = Get-NetAdapter -InterfaceDescription ${quoted(`${WINDOWS_LOOPBACK_DESCRIPTION}*`)} | Select-Object -First 1`,
    '}',
    'if ($adapter.Name -ne $LO) { Rename-NetAdapter -Name $adapter.Name -NewName $LO }',
    '',
    "# Step 2: Configure lo Interface: the load balancer's service IP on it.",
    ...options.vips.map((vip) => `if (-not (Get-NetIPAddress -InterfaceAlias $LO -IPAddress ${quoted(vip)} -ErrorAction SilentlyContinue)) { New-NetIPAddress -InterfaceAlias $LO -IPAddress ${quoted(vip)} -PrefixLength 32 | Out-Null }`),
    '',
    '# Step 3: Activate lo Interface — the four lines of the guide.',
    'netsh interface ipv4 set interface "$LOCAL" weakhostreceive=enabled',
    'netsh interface ipv4 set interface "$LOCAL" weakhostsend=enabled',
    'netsh interface ipv4 set interface "$LO" weakhostreceive=enabled',
    'netsh interface ipv4 set interface "$LO" weakhostsend=enabled',
    ...options.vips.map((vip) => `Write-Output "toa-lab: VIP ${vip} on $LO"`),
    '',
  ].join('\r\n');
}
