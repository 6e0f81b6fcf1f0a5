import type { StepResult } from './step.ts';

/**
 * A conformance scenario: what it sets up, what it sends, and which evidence
 * from the guest makes it pass, stated in words a vendor can read in the
 * report, and carried out by `run`.
 */
export interface Scenario<Lab> {
  id: string;
  title: string;
  setup: string;
  sends: string;
  passesWhen: string;
  /** What carries the client's address to the backend in this scenario: the report's mechanisms table groups by it. */
  mechanism: Mechanism;
  /**
   * Why this scenario does not apply to this lab (e.g. it needs toa-lab's own module parameters),
   * if it does not. May ask the guest (e.g. whether its kernel can make a veth pair); a question
   * that fails is the scenario's failure, not a skip.
   */
  notApplicable?(lab: Lab): string | undefined | Promise<string | undefined>;
  run(lab: Lab): Promise<Check[]>;
}

/**
 * The ways a backend behind a balancer learns its client's address, as the report's mechanisms
 * table compares them on one backend:
 * - `toa`: the balancer's TCP option, read by a TOA module or by eBPF TOA (which one is the
 *   cell's, CellNotes.toa: one scenario tests both);
 * - `dsr`: direct server return, the balancer's VIP on the backend's loopback (the packet keeps the client's address);
 * - `proxy-v1`, `proxy-v2`: the PROXY protocol header the balancer prepends to the stream.
 */
export type Mechanism = 'toa' | 'dsr' | 'proxy-v1' | 'proxy-v2';

/** One verdict line, decided on evidence from the guest. */
export interface Check {
  name: string;
  passed: boolean;
  expected: string;
  observed: string;
  /** Raw evidence (log lines, dmesg, counters) shown under the verdict. */
  evidence?: string;
  /**
   * A finding reported with its evidence that does not decide the verdict
   * (e.g. "the spoof succeeds with default parameters", "the backend answers
   * ARP for the VIP"): `passed` then says whether the finding is benign.
   */
  informational?: boolean;
  /** What the check is about, where a verdict depends on it (never on `name`). */
  kind?: CheckKind;
  /**
   * The one line of raw evidence in the tool's own words that decides the check, where there is
   * one (the kernel's dmesg line about a refused or half-initialised module, its first fault
   * line): the module × kernel compatibility table quotes it.
   */
  said?: string;
}

/**
 * Checks that a module's one-word verdict branches on: whether it loaded,
 * whether the kernel kept it with its init unfinished (insmod exit 0, no
 * "loaded" line: an init that returned a positive value), and whether the
 * kernel stayed unhurt. Other checks need no kind.
 */
export type CheckKind = 'module-load' | 'module-init-incomplete' | 'kernel-faults';

/**
 * Why a scenario could not give a verdict of its own, for the verdicts and counts above it:
 * - `guest-gone`: it started, and the guest stopped answering (crashed or hung);
 * - `not-run`: it never started (its image, module or guest was not there; `error` says why).
 */
export type OutcomeFailure = 'guest-gone' | 'not-run';

export interface ScenarioOutcome {
  scenario: string;
  title: string;
  /** The scenario's mechanism (results.jsonl keeps it, so a merged report can group without the scenario code). */
  mechanism?: Mechanism;
  checks: Check[];
  durationMs: number;
  /** The guide's procedure steps this scenario ran, each with its own duration and output. */
  steps?: StepResult[];
  /** Set when the scenario itself failed to run (a crash is a failure, never a pass). */
  error?: string;
  /** With `error`: what kind of failure it was, when the runner knows. */
  failure?: OutcomeFailure;
  /** Set when the scenario does not apply here, with the reason: neither a pass nor a failure. */
  skipped?: string;
}

/** Passed, or skipped as not applicable: nothing failed. */
export function scenarioPassed(outcome: ScenarioOutcome): boolean {
  if (outcome.skipped !== undefined && !outcome.error) return true;
  const verdicts = outcome.checks.filter((c) => !c.informational);
  return !outcome.error && verdicts.length > 0 && verdicts.every((c) => c.passed);
}

export function check(name: string, passed: boolean, expected: string, observed: string, evidence?: string): Check {
  return evidence === undefined ? { name, passed, expected, observed } : { name, passed, expected, observed, evidence };
}

/** A finding: shown with its evidence, never decides the verdict. */
export function finding(name: string, benign: boolean, expected: string, observed: string, evidence?: string): Check {
  return { ...check(name, benign, expected, observed, evidence), informational: true };
}
