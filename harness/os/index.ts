/**
 * harness/os — OS profiles as data, and the vendor guides' procedures rendered for them.
 *
 *   profile (profiles.ts) ──renderProcedure──▶ steps: toolchain → toa-build → toa-load
 *                                                     → autoload → vip → backend
 *
 * Each step is a complete script to run as root in the guest (its `interpreter`), the files
 * it writes, and a `verify` script that re-checks its effect (after a reboot for autoload).
 * Scripts exit 1 on failure, 3 when no kernel development package exists for the running
 * kernel, 4 when a precondition is missing (EXIT_CODES).
 */

export type {
  AutoloadMethod,
  BackendPython,
  BoxProviders,
  DiskBootSettings,
  GuideRow,
  ImageSource,
  InitSystem,
  OfflineDebianSuite,
  OsProfile,
  PackageManager,
  RepositoryMirror,
  ToaInstallPath,
  Toolchain,
  VagrantProvider,
  VipMethod,
  VipMethodName,
} from './profile.ts';
export { GUIDE_PROFILES, LAB_PROFILES, OS_PROFILES, profileById } from './profiles.ts';
export { BOX_PROVIDERS, boxFitsLab, describeBoxProviders, LAB_VAGRANT_PROVIDER } from './vagrant-boxes.ts';
export { mergeUserRepositories, parseUserRepositories, type UserRepositories } from './user-repositories.ts';
export { mergeUserImages, parseUserImageConfig, type UserImageConfig, type UserImageSource } from './user-images.ts';
export {
  renderProcedure,
  repositoryHosts,
  repositoryUrlProblems,
  type BackendOptions,
  type ProcedureOptions,
  type ProcedureStep,
  type StepId,
} from './procedure.ts';
export { EXIT_CODES, type GuestFile } from './shell.ts';
export { pythonCommand } from './steps/backend.ts';
export { TOA_LOADED_MESSAGE } from './steps/toa-load.ts';
