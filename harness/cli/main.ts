import { runCommand, RUN_HELP } from './run-command.ts';
import { imagesCommand, IMAGES_HELP } from './images-command.ts';
import { reportCommand, REPORT_HELP } from './report-command.ts';
import { UsageError } from '../runner/run-scenarios.ts';

/**
 * toa-lab's command line. Exit codes: 0 all passed, 1 some check failed,
 * 2 usage or set-up error (bad option, missing image, no QEMU).
 */
const HELP = `toa-lab — does the backend behind a load balancer see the real client IP?

usage: toa-lab <command> [options]

commands:
  run        conformance run on the micro-VM lab (TAP on stdout, reports in --out)
  images     build or list the lab's images
  report     merge shards' results, or diff two runs

Run 'toa-lab <command> --help' for its options.
`;

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; help: string }> = {
  run: { run: runCommand, help: RUN_HELP },
  images: { run: imagesCommand, help: IMAGES_HELP },
  report: { run: reportCommand, help: REPORT_HELP },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command '${name}'\n\n${HELP}`);
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
