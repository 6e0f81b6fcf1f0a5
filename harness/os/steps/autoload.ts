import { ensurePackageLines, packageFunctionLines } from '../package-managers.ts';
import type { ProcedureStep, RenderContext } from '../procedure.ts';
import { EXIT_CODES, type GuestFile, shellQuote, shScript, writeFileLines } from '../shell.ts';
import { locateBuildDirLines } from './toa-build.ts';
import { moduleLoadedScript } from './toa-load.ts';

/**
 * Huawei guide, "Set the script to enable it to automatically load the module", in the
 * profile's way (or DKMS on request). The verify script is the evidence after a reboot.
 */
export function renderAutoload(context: RenderContext): ProcedureStep {
  const { profile, options } = context;
  const rendered = options.autoload === 'dkms' ? dkms(context) : byProfile(context);
  return {
    id: 'autoload',
    name: rendered.name,
    interpreter: '/bin/sh',
    script: shScript(`load toa at boot on ${profile.displayName}: ${rendered.name}`, rendered.body),
    ...(rendered.files.length > 0 ? { files: rendered.files } : {}),
    verify: moduleLoadedScript(`verify toa was loaded at boot on ${profile.displayName}`),
  };
}

interface RenderedAutoload {
  name: string;
  body: string[];
  files: GuestFile[];
}

function byProfile(context: RenderContext): RenderedAutoload {
  const method = context.profile.autoload;
  switch (method.kind) {
    case 'sysconfig-modules':
      return sysconfigModules(context);
    case 'modules-load-d':
      return modulesLoadD(context);
    case 'startup-script':
      return startupScript(context, method.path);
  }
}

/**
 * The guide's boot-time lines: load the module if modinfo can read it. Out-of-tree, by path
 * (`/root/toa/toa.ko` in the guide, replaced by the real one); in the -toa kernel, where
 * `make modules_install` put it, by name with modprobe (the guide's step 8).
 */
function guideLoadLines({ profile, modulePath, options }: RenderContext): string[] {
  const params = options.moduleParams ?? [];
  return profile.toaInstall === 'patched-kernel'
    ? ['/sbin/modinfo -F filename toa > /dev/null 2>&1', 'if [ $? -eq 0 ]; then', ['/sbin/modprobe toa', ...params].join(' '), 'fi']
    : [`/sbin/modinfo -F filename ${modulePath} > /dev/null 2>&1`, 'if [ $? -eq 0 ]; then', ['/sbin/insmod', modulePath, ...params].join(' '), 'fi'];
}

/** The modinfo test the boot-time lines make must pass now, or they would silently do nothing. */
function bootConditionLines(context: RenderContext): string[] {
  const target = context.profile.toaInstall === 'patched-kernel' ? 'toa' : shellQuote(context.modulePath);
  return [`modinfo -F filename ${target} >/dev/null 2>&1 || die ${EXIT_CODES.precondition} "modinfo cannot read ${target}: nothing would load at boot"`];
}

const TOA_MODULES = '/etc/sysconfig/modules/toa.modules';
/** The guide: "Add the modprobe toa command to both the startup script and the system scheduled monitoring script". */
const TOA_CRON = '/etc/cron.d/toa';

function sysconfigModules(context: RenderContext): RenderedAutoload {
  const script: GuestFile = { path: TOA_MODULES, content: ['#!/bin/sh', ...guideLoadLines(context), ''].join('\n'), mode: 0o755 };
  const files = [script];
  if (context.profile.toaInstall === 'patched-kernel') {
    files.push({ path: TOA_CRON, content: '* * * * * root /sbin/modprobe toa\n', mode: 0o644 });
  }
  return {
    name: `${TOA_MODULES} (chmod +x)`,
    files,
    body: [
      ...bootConditionLines(context),
      ...writeFileLines({ path: script.path, content: script.content }),
      `chmod +x ${TOA_MODULES}`,
      `sh -n ${TOA_MODULES} || die ${EXIT_CODES.failure} "${TOA_MODULES} is not a valid sh script"`,
      ...files.slice(1).flatMap(writeFileLines),
    ],
  };
}

/** `/etc/modprobe.d/toa.conf` with the module parameters, for loads by name at boot. */
function modprobeOptionsFiles({ options }: RenderContext): GuestFile[] {
  const params = options.moduleParams ?? [];
  return params.length === 0 ? [] : [{ path: '/etc/modprobe.d/toa.conf', content: `options toa ${params.join(' ')}\n`, mode: 0o644 }];
}

const MODULES_LOAD_CONF: GuestFile = { path: '/etc/modules-load.d/toa.conf', content: 'toa\n', mode: 0o644 };

/** Fails unless modprobe, at boot, would load the module from under /lib/modules/$release/. */
function resolvesUnderLines(prefix: string): string[] {
  return [
    'resolved=$(modinfo -F filename toa 2>/dev/null || true)',
    'case "$resolved" in',
    `  ${prefix}*) echo "toa-lab: at boot, modprobe will load $resolved" ;;`,
    `  *) die ${EXIT_CODES.failure} "after depmod, modprobe toa resolves to '$resolved', not a module under ${prefix}" ;;`,
    'esac',
  ];
}

function modulesLoadD(context: RenderContext): RenderedAutoload {
  const files = [MODULES_LOAD_CONF, ...modprobeOptionsFiles(context)];
  return {
    name: '/lib/modules/$(uname -r)/extra + depmod + /etc/modules-load.d/toa.conf',
    files,
    body: [
      `[ -f ${shellQuote(context.modulePath)} ] || die ${EXIT_CODES.precondition} "${context.modulePath} is missing: run toa-build first"`,
      'release=$(uname -r)',
      'mkdir -p "/lib/modules/$release/extra"',
      `cp ${shellQuote(context.modulePath)} "/lib/modules/$release/extra/toa.ko"`,
      `depmod -a || die ${EXIT_CODES.failure} "depmod -a failed"`,
      ...files.flatMap(writeFileLines),
      ...resolvesUnderLines('/lib/modules/$release/extra/'),
    ],
  };
}

const BLOCK_BEGIN = '# toa-lab: begin (Huawei guide: load TOA at boot)';
const BLOCK_END = '# toa-lab: end';

/** The guide's "customized startup script": its lines appended, once, between markers. */
function startupScript(context: RenderContext, path: string): RenderedAutoload {
  const file = shellQuote(path);
  return {
    name: `the guide's load lines in ${path}`,
    files: [],
    body: [
      ...bootConditionLines(context),
      `[ -f ${file} ] || printf '#!/bin/sh\\n' > ${file}`,
      `sed -i '/^${BLOCK_BEGIN}$/,/^${BLOCK_END}$/d' ${file}`,
      `cat >> ${file} <<'TOA_LAB_EOF'`,
      BLOCK_BEGIN,
      ...guideLoadLines(context),
      BLOCK_END,
      'TOA_LAB_EOF',
      `chmod +x ${file}`,
      `sh -n ${file} || die ${EXIT_CODES.failure} "${path} is not a valid sh script"`,
    ],
  };
}

export const DKMS_VERSION = '1.0';

/**
 * DKMS rebuilds toa.ko for every new kernel (the guide: "If the kernel is upgraded ...
 * compile the module again"); systemd's modules-load.d loads it at boot. The default
 * MAKE line of dkms runs kbuild on the copied source, which suits both source layouts.
 */
function dkms(context: RenderContext): RenderedAutoload {
  const { profile, sourceDir } = context;
  if (profile.init !== 'systemd' || profile.toaInstall !== 'out-of-tree') {
    throw new Error(`${profile.id}: dkms autoload needs systemd (modules-load.d) and an out-of-tree module`);
  }
  const dest = `/usr/src/toa-${DKMS_VERSION}`;
  const conf: GuestFile = {
    path: `${dest}/dkms.conf`,
    content: ['PACKAGE_NAME="toa"', `PACKAGE_VERSION="${DKMS_VERSION}"`, 'BUILT_MODULE_NAME[0]="toa"', 'DEST_MODULE_LOCATION[0]="/extra"', 'AUTOINSTALL="yes"', ''].join('\n'),
    mode: 0o644,
  };
  const files = [conf, MODULES_LOAD_CONF, ...modprobeOptionsFiles(context)];
  const mv = `-m toa -v ${DKMS_VERSION}`;
  return {
    name: `dkms (${dest}) + /etc/modules-load.d/toa.conf`,
    files,
    body: [
      ...packageFunctionLines(profile.packageManager),
      ...ensurePackageLines('dkms', profile.packageManager === 'apt' ? 'it is in the distribution archive' : 'on EL it comes from EPEL'),
      ...locateBuildDirLines(sourceDir),
      'release=$(uname -r)',
      `dkms remove ${mv} --all >/dev/null 2>&1 || true`,
      `rm -rf ${dest}`,
      `mkdir -p ${dest}`,
      `cp -R "$build_dir"/. ${dest}/`,
      '# Objects from the toa-build step carry that directory\'s paths: dkms builds its own.',
      `rm -f ${dest}/*.o ${dest}/*.ko ${dest}/*.mod ${dest}/*.mod.c ${dest}/.*.cmd ${dest}/modules.order ${dest}/Module.symvers`,
      ...files.flatMap(writeFileLines),
      `dkms add ${mv} || die ${EXIT_CODES.failure} "dkms add failed"`,
      `dkms build ${mv} -k "$release" || {`,
      `  cat /var/lib/dkms/toa/${DKMS_VERSION}/build/make.log >&2 || true`,
      `  die ${EXIT_CODES.failure} "dkms build failed for $release"`,
      '}',
      `dkms install ${mv} -k "$release" || die ${EXIT_CODES.failure} "dkms install failed for $release"`,
      ...resolvesUnderLines('/lib/modules/$release/'),
    ],
  };
}
