import type { DiskBootSettings, ImageSource, OsProfile, VipMethodName } from './profile.ts';
import { userBoxProvider } from './vagrant-boxes.ts';

/**
 * A user's own image for a profile: the box they have, a mirror of the cloud image with
 * its real checksum, or a local disk file. Keys are profile ids.
 *
 * ```json
 * { "images": { "centos-7": [{ "kind": "cloud-image", "url": "https://mirror/CentOS-7.qcow2", "sha256": "…" }],
 *               "suse-11-sp3": [{ "kind": "local-image", "path": "/srv/images/sles11sp3.qcow2" }] } }
 * ```
 */
export interface UserImageConfig {
  images: Record<string, readonly UserImageSource[]>;
}

/** What a user may supply; the lab's own kinds (offline-debian, user-supplied) are not among them. */
export type UserImageSource = Extract<ImageSource, { kind: 'vagrant-box' | 'cloud-image' | 'local-image' }>;

/**
 * Replaces the image sources of the profiles the config names (the user's list wins whole:
 * merging with the built-in alternatives would let a run silently fall back to an image the
 * user meant to replace). Unknown profile ids are an error, not ignored — a typo would
 * otherwise run the default image.
 */
export function mergeUserImages(profiles: readonly OsProfile[], userConfig: UserImageConfig): OsProfile[] {
  const known = new Set(profiles.map((p) => p.id));
  const unknown = Object.keys(userConfig.images).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new Error(`user image config names unknown profiles: ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  }
  return profiles.map((profile) => {
    const sources = userConfig.images[profile.id];
    return sources ? { ...profile, images: [...sources] } : profile;
  });
}

/** Validates a parsed JSON config; errors name the offending path (`images.centos-7[0].url`). */
export function parseUserImageConfig(value: unknown): UserImageConfig {
  if (!isRecord(value) || !isRecord(value.images)) throw new Error('user image config: expected { "images": { <profile id>: [...] } }');
  const images: Record<string, UserImageSource[]> = {};
  for (const [id, list] of Object.entries(value.images)) {
    if (!Array.isArray(list) || list.length === 0) throw new Error(`user image config: images.${id} must be a non-empty array`);
    images[id] = list.map((entry, i) => parseSource(entry, `images.${id}[${i}]`));
  }
  return { images };
}

function parseSource(entry: unknown, where: string): UserImageSource {
  if (!isRecord(entry)) throw new Error(`user image config: ${where} must be an object`);
  const text = (key: string, optional = false): string | undefined => {
    const v = entry[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v === '') throw new Error(`user image config: ${where}.${key} must be a non-empty string`);
    return v;
  };
  const checksum = (): string | null | undefined => {
    const v = entry.sha256;
    if (v === undefined || v === null) return v;
    if (typeof v !== 'string' || !/^[0-9a-f]{64}$/i.test(v)) throw new Error(`user image config: ${where}.sha256 must be 64 hex digits or null`);
    return v.toLowerCase();
  };
  switch (entry.kind) {
    case 'vagrant-box': {
      const version = text('version', true);
      return { kind: 'vagrant-box', box: text('box')!, ...(version ? { version } : {}), ...userBoxProvider(entry.provider, where) };
    }
    case 'cloud-image':
      return { kind: 'cloud-image', url: text('url')!, sha256: checksum() ?? null, ...parseBootSettings(entry, where) };
    case 'local-image': {
      const sha256 = checksum();
      return { kind: 'local-image', path: text('path')!, ...(sha256 !== undefined ? { sha256 } : {}), ...parseBootSettings(entry, where) };
    }
    default:
      throw new Error(`user image config: ${where}.kind must be vagrant-box, cloud-image or local-image (found ${JSON.stringify(entry.kind)})`);
  }
}

const VIP_METHODS: readonly VipMethodName[] = ['ifcfg', 'ifcfg-network-scripts', 'interfaces-d', 'netplan', 'ip-addr'];

/** A disk source's `login`, `firmware`, `vipForm` and `vipMethod` (profile.ts: DiskBootSettings). */
function parseBootSettings(entry: Record<string, unknown>, where: string): DiskBootSettings {
  const settings: DiskBootSettings = {};
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const v = entry[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !allowed.includes(v as T)) throw new Error(`user image config: ${where}.${key} must be one of ${allowed.join(', ')} (found ${JSON.stringify(v)})`);
    return v as T;
  };
  if (entry.login !== undefined) {
    const login = entry.login;
    const field = (key: 'user' | 'privateKeyFile'): string => {
      const v = isRecord(login) ? login[key] : undefined;
      if (typeof v !== 'string' || v === '') throw new Error(`user image config: ${where}.login.${key} must be a non-empty string`);
      return v;
    };
    settings.login = { user: field('user'), privateKeyFile: field('privateKeyFile') };
  }
  const firmware = oneOf('firmware', ['bios', 'uefi'] as const);
  if (firmware) settings.firmware = firmware;
  const vipForm = oneOf('vipForm', ['files', 'cloud-init'] as const);
  if (vipForm) settings.vipForm = vipForm;
  const vipMethod = oneOf('vipMethod', VIP_METHODS);
  if (vipMethod) settings.vipMethod = vipMethod;
  // The UserData reaches the guest in the run's cloud-init seed, which a configured login replaces.
  if (settings.vipForm === 'cloud-init' && settings.login) {
    throw new Error(`user image config: ${where}: vipForm "cloud-init" hands the VIP script to cloud-init in the run's seed; with a login of its own the image gets no seed`);
  }
  return settings;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
