import { existsSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RunSession } from '../lifecycle/run-session.ts';
import { LiveStatus } from '../report/live-status.ts';
import { mergeCellNotes, ResultsStore } from '../report/results-store.ts';
import { TapWriter } from '../report/tap-writer.ts';
import { writeReports } from '../report/write-reports.ts';
import type { CellContext } from '../runner/cell.ts';
import { PATCHED_KERNEL_IMAGE, IMAGES } from '../runner/lab-images.ts';
import { checkDiskImage } from '../runner/disk-image-targets.ts';
import { MACHINE_PROVIDERS, machineProvider, UnknownProviderError } from '../machine/providers.ts';
import { loadProfiles } from '../os/user-config.ts';
import { GUIDE_PROFILES } from '../os/index.ts';
import { FULL_OS_SCENARIOS } from '../runner/full-os-cell.ts';
import { fullOsTarget, runCell } from '../runner/cell-runners.ts';
import { MAX_GUEST_CPUS, vcpusPerGuest } from '../runner/guest-cpus.ts';
import { UsageError } from '../runner/run-scenarios.ts';
import { scenarioPassed, type ScenarioOutcome } from '../core/scenario.ts';
import { describeChoice, isRemoteSource, type ToaModuleChoice } from '../toa/module-choice.ts';
import { describeModuleSpec, ModuleSpecError, moduleSpecsFrom, OWN_MODULE_KEYWORD, type ModuleSpec } from '../toa/module-spec.ts';
import { balancerProfile, isStandardIpv4Profile, profileForKind, UnknownBalancerProfileError, BALANCER_PROFILES, type BalancerProfile } from '../net/index.ts';
import { BALANCER_PROFILES_SCENARIO_ID } from '../../scenarios/balancer-profiles.ts';
import { SELECTION_HELP, SELECTION_OPTIONS, planFrom } from './cell-selection.ts';
import { finalCellNotes, initialCellNotes } from './cell-notes.ts';
import { SCENARIOS } from '../../scenarios/index.ts';

export const RUN_HELP = `usage: toa-lab run [--image NAME[,NAME...]] [--kernel SPEC ...] [--kernel-deb DEB... --headers-deb DEB...]
                   [--kernel-rpm RPM... --devel-rpm RPM...]
                   [--image-file DISK] [--config FILE]
                   [--profile ID] [--scenario ID[,ID...]] [--shard i/n] [--rerun-failed DIR]
                   [--parallel N] [--toa-source [NAME=]DIR|TARBALL|GIT-URL|ours ... --toa-ko [NAME=]FILE ... | --toa-bpf ours|OBJ]
                   [--module-kinds [NAME=]KIND[,KIND...] ...] [--balancer PROFILE | --toa-kind N] [--provider ${[...MACHINE_PROVIDERS.keys()].join('|')}] [--keep-on-failure] [--out DIR]

Boots the lab's images — micro-VMs with Debian's kernels (5.10, 6.1, 6.12, the
backports' 7.x, a cloud flavour; any other with --kernel), our toa.ko and
toa-backend, for the data-path scenarios; whole Debian systems
for the guides' procedure (build, load, autoload, VIP, reboot), then the same
data-path scenarios on the toa.ko the procedure installed — runs the
scenarios on each, streams TAP 13 on stdout, and writes to DIR: results.jsonl
(one line per finished scenario, kept even if the run is interrupted),
report.md, summary.md, report.html (+ full-page report.png and report-narrow.png),
junit/<cell>.xml, and each guest's serial console log. results.jsonl starts with
the plan (what 'toa-lab list --json' prints for the same flags) and keeps each
cell's kernel, accelerator and module verdict.

  --image      images (default: ${IMAGES.filter((i) => i.byDefault).map((i) => i.name).join(', ')});
               the lab's: ${IMAGES.map((i) => i.name).join(', ')};
               ${PATCHED_KERNEL_IMAGE}: the guide's 2.6.32 path (kernel rebuilt with TOA in-tree,
               grub.conf, reboot, modprobe, then every data-path scenario); never by default: a
               cold kernel build takes 10–26 min, said before it starts, cached after that;
               a guide row (${GUIDE_PROFILES.map((p) => p.id).join(', ')}) boots the image
               toa-lab.config.json (or --config) names for it: a local-image file
  --image-file your own disk (qcow2, raw, vmdk, vhdx; never written: each run boots an overlay),
               booted through its own boot loader (BIOS or UEFI, detected), provisioned by a
               cloud-init seed (a per-run user with passwordless sudo); the OS is detected and
               its guide row's procedure runs, then every data-path scenario. Repeatable.
               A libvirt .box in the standard form (its own boot loader, a vagrant user) runs
               with --provider vagrant, logged into with Vagrant's insecure key as vagrant does.
  --config     a toa-lab.config.json other than the working folder's
  --profile    the guide row to follow on a disk the lab did not build (--image-file, a config
               row) instead of the detected one
  --boot-timeout  seconds a whole OS may take to a working SSH login, at its first boot and
               after the guide's reboot (default 180 for the lab's images, 600 for a disk's
               first boot with cloud-init under TCG); a disk whose sshd keeps refusing the login
               (no cloud-init took the seed, a wrong configured key) ends its cell 60 s after the
               first refusal, with sshd's answer and the config lines that would let it in
  --kernel     a kernel Debian's archive serves, booted as a micro-VM cell running the data-path
               scenarios: SUITE[:FLAVOUR][=VERSION], e.g. sid, bookworm:cloud, bookworm=6.1.176-1,
               trixie-backports=7.2 (newest 7.2.x), trixie-backports:rt; repeatable; cell
               microvm-<suite>[-<flavour>][-<version>]; 'toa-lab kernels list' shows what is served.
               Without --image or --image-file, only the named kernels run.
  --kernel-deb, --headers-deb  a kernel of your own as .deb files (a custom build, a vendor's or
               Ubuntu's kernel, a Debian kernel from elsewhere): the package(s) with the kernel and its
               modules (Debian 7.x: linux-image, -binary, -modules, -base; repeat the flag) and its
               headers (with -common/kbuild when the archive no longer has them). Read from the
               packages, not their names; toa.ko is built by the gcc the headers name, in the Debian
               suite that serves it. Cell microvm-deb-<release>; like --kernel, alone it runs alone.
  --kernel-rpm, --devel-rpm  the same for a kernel as RPMs (CentOS, Rocky, openSUSE: kernel or
               kernel-core + kernel-modules, and kernel-devel with /usr/src/kernels/<release>),
               unpacked with rpm2cpio. Cell microvm-rpm-<release>.
  --scenario   scenarios (default: all): data path (every image): ${SCENARIOS.map((s) => s.id).join(', ')};
               full OS only: ${FULL_OS_SCENARIOS.map((s) => s.id).join(', ')} (a full-OS cell always carries
               out the guide's procedure: the data-path scenarios test the toa.ko it installs)
${SELECTION_HELP}
  --parallel   images booted at once (default from cores and memory: ${defaultParallelism()}); guests get
               2 vCPUs each, 1 when more guests run at once than the host has cores for two each
  --toa-source test a vendor's TOA module: its source is built against each image's kernel
               headers (kbuild; on a whole OS by the guide's own steps, in the guest); the verdict
               says whether it did not build (first compiler errors, known causes explained), did
               not load, crashed the guest, reported a wrong address, or passed. '${OWN_MODULE_KEYWORD}' is
               toa-lab's own module (native/toa, as built with the image; a folder of that name: ./${OWN_MODULE_KEYWORD})
  --toa-ko     test a prebuilt toa.ko as the guide's "install on multiple servers" step does
               (micro-VMs)
               (either: NAME= names the module; default the folder's or file's base name; ours is toa-lab)
               Both repeatable: two or more modules make the run a module × kernel × scenario
               matrix — each image once per module, cell <image>+<module> (one module: the image
               name, as always), and report.md/report.html/summary.md gain a module × kernel
               compatibility table (one verdict each, with the compiler's or the kernel's own
               line). A whole OS boots once per module (the guide builds each source in the
               guest); a prebuilt .ko is left out there, and a vendor's module on the
               patched-kernel path: the run's notes and 'toa-lab list' say so. E.g.
               --toa-source ours --toa-source huawei=DIR --toa-ko ucloud=toa.ko
  --module-kinds the option kinds a module under test accepts, e.g. 200,253,254 (default: the
               kind the balancer sends); toa-lab's module is loaded with them (toa_kinds=), a
               vendor's is loaded bare and judged by them (malformed-options, balancer-profiles);
               repeatable, NAME=KINDS per module (a bare KINDS only when one module is under test)
  --balancer   what the balancer sends, as a vendor's balancer does (default lvs-v4):
${wrap([...BALANCER_PROFILES.keys()].join(', ') + ';', 15, 96)}
               profiles other than the IPv4 port+address form run only with
               --scenario ${BALANCER_PROFILES_SCENARIO_ID} (the other scenarios check an exact address and port)
  --toa-kind   shorthand for the standard IPv4 TOA under another kind (default 254; 200 and 253
               exist); excludes --balancer
  --toa-bpf    no module: eBPF TOA instead (micro-VMs, kernels ≥ 5.10; older ones report every
               scenario as not applicable). 'ours' is toa-lab's own (native/toa-bpf: sockops reads
               the option into socket storage, cgroup/getpeername4/6 answer getpeername() and
               accept()); a file is your BPF object, whose programs are attached by their section
               (sockops, cgroup/getpeername4, cgroup/getpeername6) to the backend's cgroup.
               Scenarios about the module itself (rmmod) are skipped as not applicable
  --provider   who boots the full-OS images (micro-VMs always run on QEMU):
${[...MACHINE_PROVIDERS.values()].map((p) => `               ${p.name}: ${p.summary}`).join('\n')}
  --keep-on-failure  keep a micro-VM whose scenarios failed running for inspection (its console,
               its agent socket) until Ctrl-C; Ctrl-C then stops it like any run
  --out        report folder (default: out/run-<timestamp>)

Exit code: 0 all passed, 1 some scenario failed, 2 usage or set-up error.
`;

export async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...SELECTION_OPTIONS, // --image, --image-file, --config, --kernel, --scenario, --shard, --rerun-failed: cell-selection.ts
      parallel: { type: 'string' },
      // --toa-source and --toa-ko are in SELECTION_OPTIONS: two or more modules change the plan's cells.
      'toa-bpf': { type: 'string' },
      'toa-kind': { type: 'string' },
      'module-kinds': { type: 'string', multiple: true },
      balancer: { type: 'string' },
      'keep-on-failure': { type: 'boolean' },
      provider: { type: 'string', default: 'qemu' },
      profile: { type: 'string' },
      'boot-timeout': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const profile = balancerFrom(values.balancer, values['toa-kind']);
  const toaKind = profile.kind;
  const bpf = bpfChoice(values['toa-bpf'], values['toa-source'], values['toa-ko']);
  const specs = moduleSpecsOf(values['toa-source'], values['toa-ko'], values['module-kinds'], toaKind);
  const provider = values.provider;
  try {
    machineProvider(provider);
  } catch (error) {
    if (error instanceof UnknownProviderError) throw new UsageError(`--provider: ${error.message}`);
    throw error;
  }
  if (values.profile && !loadProfiles(values.config).profiles.some((p) => p.id === values.profile)) {
    throw new UsageError(`--profile: unknown guide row '${values.profile}'; known: ${GUIDE_PROFILES.map((p) => p.id).join(', ')}`);
  }
  const { work: plan, plan: runPlan, left } = await planFrom(values);
  requireProfileFitsScenarios(profile, plan.flatMap((w) => w.ids));
  // What can be known before anything boots: the provider takes the image; a disk is a disk, its checksum right.
  for (const { image } of plan) {
    if (image.kind !== 'full-os') continue;
    const refusal = machineProvider(provider).refuses(fullOsTarget(image));
    if (refusal) throw new UsageError(`--provider ${provider}: ${refusal}`);
    if (image.disk) image.disk = await checkDiskImage(image.disk, (line) => process.stderr.write(`toa-lab: ${line}\n`));
  }
  const shard = runPlan.shard;
  const bootTimeoutSeconds = values['boot-timeout'] === undefined ? undefined : Number(values['boot-timeout']);
  if (bootTimeoutSeconds !== undefined && !(Number.isInteger(bootTimeoutSeconds) && bootTimeoutSeconds > 0)) {
    throw new UsageError(`--boot-timeout wants whole seconds > 0, got '${values['boot-timeout']}'`);
  }
  const parallel = values.parallel ? Number(values.parallel) : defaultParallelism();
  if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError(`--parallel wants a whole number ≥ 1, got '${values.parallel}'`);

  const outDir = resolve(values.out ?? `out/run-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const store = new ResultsStore(outDir);
  store.appendPlan(runPlan); // first line: a merge can tell a shard that died from one with nothing to do
  const status = new LiveStatus(process.stdout);
  const tap = new TapWriter((text) => status.write(text));
  const notes: string[] =
    specs.length === 1
      ? [`module under test: ${describeChoice(bpf ?? specs[0]!.choice)}, ${describeModuleSpec(specs[0]!)}; balancer profile ${profile.name} (${profile.summary})`]
      : [
          `${specs.length} modules under test, each a cell per image (<image>+<module>): ` +
            specs.map((s) => `${s.name} (${describeChoice(s.choice)}, ${describeModuleSpec(s)})`).join('; ') +
            `; balancer profile ${profile.name} (${profile.summary})`,
          ...left.map((l) => `${l.image} × ${l.module} not run: ${l.reason}`),
        ];
  if (shard) notes.push(`shard ${shard.index}/${shard.count}`);
  const guestsAtOnce = Math.min(parallel, plan.length);
  const vcpus = vcpusPerGuest(availableParallelism(), guestsAtOnce);
  if (vcpus < MAX_GUEST_CPUS) notes.push(`${guestsAtOnce} guests at once on ${availableParallelism()} host cores: ${vcpus} vCPU each`);
  const session = await RunSession.open();
  const outcomes: ScenarioOutcome[] = [];
  try {
    await forEachConcurrently(plan, parallel, async ({ id: cell, image, module: moduleName, ids }) => {
      const spec = specs.find((s) => s.name === moduleName) ?? specs[0]!;
      // eBPF TOA runs on micro-VMs only; a whole OS builds the guide's module even under --toa-bpf (its cell says so).
      const readsToaWithBpf = bpf !== undefined && image.kind === 'micro';
      const facts = initialCellNotes(image, provider, cell, readsToaWithBpf ? undefined : spec.name);
      const ctx: CellContext = {
        cell,
        session,
        outDir,
        say: (line) => tap.comment(`${cell}: ${line}`),
        status: (text) => status.set(cell, text),
        // Off a terminal, status changes are printed too: the line is said once either way.
        progress: (line) => {
          tap.comment(`${cell}: ${line}`);
          if (status.live) status.set(cell, line.slice(0, 80));
        },
        record: (outcome) => record(cell, outcome),
        note: (text) => notes.push(text),
        facts: (learnt) => Object.assign(facts, learnt),
      };
      try {
        await runCell(ctx, image, ids, {
          module: bpf ?? spec.choice,
          toaKind,
          moduleKinds: spec.kinds,
          balancerProfile: profile,
          vcpus,
          provider,
          keepOnFailure: values['keep-on-failure'] === true,
          ...(values.profile && { profile: values.profile }),
          ...(bootTimeoutSeconds && { bootTimeoutMs: bootTimeoutSeconds * 1000 }),
        });
      } finally {
        status.remove(cell);
        store.appendCell(finalCellNotes(facts, outDir));
      }
    });
    tap.end();
    const written = ResultsStore.readRun(store.path);
    await writeReports(outDir, written.results, { title: 'toa-lab conformance report', notes, cells: mergeCellNotes(written.cells), plan: runPlan });
    const passed = outcomes.filter(scenarioPassed).length;
    process.stdout.write(`# ${passed} passed, ${outcomes.length - passed} failed\n# reports: ${outDir}\n`);
    return passed === outcomes.length ? 0 : 1;
  } finally {
    await session.close();
  }

  function record(cell: string, recorded: ScenarioOutcome): void {
    // The scenario's mechanism goes into results.jsonl, so merged reports group without the scenario code.
    const mechanism = SCENARIOS.find((s) => s.id === recorded.scenario)?.mechanism;
    const outcome = mechanism && !recorded.mechanism ? { ...recorded, mechanism } : recorded;
    outcomes.push(outcome);
    store.append(cell, outcome);
    tap.outcome(cell, outcome);
  }
}

/** What the balancer sends: a named profile, or the standard IPv4 TOA under `--toa-kind` (one flag, one meaning). */
export function balancerFrom(name: string | undefined, kindText: string | undefined): BalancerProfile {
  if (name !== undefined && kindText !== undefined) {
    throw new UsageError('--balancer and --toa-kind both say what the balancer sends; give one (a profile names its kind)');
  }
  if (name !== undefined) {
    try {
      return balancerProfile(name);
    } catch (error) {
      if (error instanceof UnknownBalancerProfileError) throw new UsageError(`--balancer: ${error.message}`);
      throw error;
    }
  }
  const kind = kindText === undefined ? 254 : /^\d+$/.test(kindText) ? Number(kindText) : NaN;
  if (!(kind >= 0 && kind <= 255)) throw new UsageError(`--toa-kind wants an option kind 0–255, got '${kindText}'`);
  return profileForKind(kind);
}

/**
 * `--toa-bpf ours|OBJ`: eBPF TOA instead of a module (undefined when not given).
 * It replaces the module under test, so it excludes --toa-source and --toa-ko.
 */
export function bpfChoice(bpf: string | undefined, sources: readonly string[] = [], prebuilt: readonly string[] = []): ToaModuleChoice | undefined {
  if (bpf === undefined) return undefined;
  if (sources.length || prebuilt.length) throw new UsageError('--toa-source, --toa-ko and --toa-bpf exclude each other');
  if (bpf === 'ours') return { origin: 'bpf' };
  if (!existsSync(bpf)) throw new UsageError(`--toa-bpf: no such BPF object: ${bpf} (or 'ours' for toa-lab's own)`);
  return { origin: 'bpf', object: resolve(bpf) };
}

/** The modules under test and the kinds each accepts; every malformed part is a usage error before anything boots. */
export function moduleSpecsOf(
  sources: readonly string[] | undefined,
  prebuilt: readonly string[] | undefined,
  kinds: readonly string[] | undefined,
  balancerKind: number,
): ModuleSpec[] {
  let specs: ModuleSpec[];
  try {
    specs = moduleSpecsFrom({ toaSource: sources, toaKo: prebuilt, moduleKinds: kinds }, balancerKind, { exists: existsSync, resolvePath: (p) => resolve(p) });
  } catch (error) {
    if (error instanceof ModuleSpecError) throw new UsageError(error.message);
    throw error;
  }
  for (const { choice } of specs) {
    // A local path that is not there is a usage error now, not one failed row per image after every kernel was resolved.
    if (choice.origin === 'source' && !isRemoteSource(choice.location) && !existsSync(choice.location)) {
      throw new UsageError(`--toa-source: no such directory or tarball: ${choice.location} (nor a git URL)`);
    }
  }
  return specs;
}

/**
 * A profile that is not the IPv4 port+address TOA (no port, IPv6, a VPC form) is judged only by
 * the balancer-profiles scenario: the others check an exact IPv4 address and port, and would
 * report the profile's shape as the module's failure.
 */
function requireProfileFitsScenarios(profile: BalancerProfile, ids: readonly string[]): void {
  if (isStandardIpv4Profile(profile)) return;
  const others = [...new Set(ids.filter((id) => id !== BALANCER_PROFILES_SCENARIO_ID && SCENARIOS.some((s) => s.id === id)))];
  if (others.length) {
    throw new UsageError(
      `--balancer ${profile.name} (${profile.summary}) is judged only by --scenario ${BALANCER_PROFILES_SCENARIO_ID}; ` +
        `the selection also has ${others.join(', ')}, which check an exact IPv4 address and port`,
    );
  }
}

/** Words of `text` in lines of at most `width` characters, each indented by `indent` spaces. */
function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + word.length <= width - indent) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.map((line) => ' '.repeat(indent) + line).join('\n');
}

/** A TCG guest keeps two cores busy and needs ~1 GiB with QEMU's overhead. */
function defaultParallelism(): number {
  return Math.max(1, Math.min(Math.floor(availableParallelism() / 2), Math.floor(freemem() / 2 ** 30 / 1.5)));
}

async function forEachConcurrently<T>(items: readonly T[], limit: number, body: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await body(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
