import { UsageError } from '../runner/run-scenarios.ts';

/**
 * toa-lab's command line. Exit codes: 0 all passed, 1 some check failed,
 * 2 usage or set-up error (bad option, missing image, no QEMU).
 */
const HELP = `toa-lab — does the backend behind a load balancer see the real client IP?

usage: toa-lab <command> [options]

commands:
  run        conformance run on the micro-VM lab (TAP on stdout, reports in --out)
  list       the cells a run with the same flags would execute (--json: the plan)
  images     build, list or hash the lab's images
  kernels    list the kernels Debian's archive serves (each runnable with run --kernel)
  kernel-upgrade  the kernel changes under an installed Debian 12: what the guest shows, rebuild and DKMS
  report     merge shards' results (--expect: none lost), diff two runs, or trend over N
  matrix     the CI matrix (GitHub Actions, GitLab) of images × shards
  cache      list or prune the artefact cache
  doctor     check this host: QEMU, KVM, disk, memory, tools

Run 'toa-lab <command> --help' for its options; 'toa-lab --version' for the version.
`;

interface Command {
  run: (args: string[]) => Promise<number>;
  help: string;
}

/** Loaded on demand: `toa-lab doctor` must work even where the lab's own parts cannot load. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => {
    const m = await import('./run-command.ts');
    return { run: m.runCommand, help: m.RUN_HELP };
  },
  list: async () => {
    const m = await import('./list-command.ts');
    return { run: m.listCommand, help: m.LIST_HELP };
  },
  cache: async () => {
    const m = await import('./cache-command.ts');
    return { run: m.cacheCommand, help: m.CACHE_HELP };
  },
  images: async () => {
    const m = await import('./images-command.ts');
    return { run: m.imagesCommand, help: m.IMAGES_HELP };
  },
  kernels: async () => {
    const m = await import('./kernels-command.ts');
    return { run: m.kernelsCommand, help: m.KERNELS_HELP };
  },
  'kernel-upgrade': async () => {
    const m = await import('./kernel-upgrade-command.ts');
    return { run: m.kernelUpgradeCommand, help: m.KERNEL_UPGRADE_HELP };
  },
  report: async () => {
    const m = await import('./report-command.ts');
    return { run: m.reportCommand, help: m.REPORT_HELP };
  },
  matrix: async () => {
    const m = await import('./matrix-command.ts');
    return { run: m.matrixCommand, help: m.MATRIX_HELP };
  },
  doctor: async () => {
    const m = await import('./doctor-command.ts');
    return { run: m.doctorCommand, help: m.DOCTOR_HELP };
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    const { toaLabVersion } = await import('../version.ts');
    process.stdout.write(`toa-lab ${toaLabVersion()}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) throw new UsageError(`unknown command '${name}'\n\n${HELP}`);
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`toa-lab: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    if (!usage && process.env.TOA_LAB_DEBUG) console.error(error);
  },
);
