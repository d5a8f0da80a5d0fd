// `npm run fuzz -- --campaign`: long fuzzing runs that add up across sessions and machines. Each target runs in
// chunks (one child process per chunk, a fresh fast-check seed each time) until its CPU time reaches its goal; every
// finished chunk is added to a ledger committed in the repository (test/fuzz/campaign.json), written atomically, so
// a campaign stopped at any point (kill, end of session) keeps everything but the chunk that was running.
// `--campaign-report` turns the ledger into the table of docs/fuzzing.md.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runInChild, type ChildRunReport, type TargetReport } from "./cli.js";
import type { CoverageSummary } from "./coverage.js";

const HERE = dirname(fileURLToPath(import.meta.url));
/** the source folder (dist/test/fuzz → test/fuzz), where the ledger and findings are kept */
export const SRC_DIR = join(HERE, "..", "..", "..", "test", "fuzz");
export const DEFAULT_LEDGER = join(SRC_DIR, "campaign.json");
const FINDINGS_DIR = join(SRC_DIR, "campaign-findings");

/** CPU minutes each target must reach (issue 17: 10 minutes per target, 1 hour for the differential block target) */
export function goalMinutes(target: string): number {
  return target === "diff-block" ? 60 : 10;
}

export interface LedgerFinding {
  date: string;
  kind: string;
  message: string;
  /** where the input was saved, relative to test/fuzz */
  file: string;
  seed: number;
}

export interface LedgerTarget {
  cpuSeconds: number;
  wallSeconds: number;
  execs: number;
  chunks: number;
  peakRssMb: number;
  outcomes: Record<string, number>;
  findings: LedgerFinding[];
  /** V8 coverage of the chunk that reached the most functions of src/ */
  coverage?: CoverageSummary;
  /** why the last chunk could not run (e.g. Lodestar not installed); not counted */
  skipped?: string;
}

export interface Ledger {
  version: 1;
  targets: Record<string, LedgerTarget>;
  /** one line per campaign run: when, where, how long */
  sessions: { started: string; ended: string; commit: string; jobs: number; chunks: number; cpuSeconds: number; node: string; loadavg: number[] }[];
}

export function emptyLedger(): Ledger {
  return { version: 1, targets: {}, sessions: [] };
}

export function readLedger(file: string): Ledger {
  if (!existsSync(file)) return emptyLedger();
  const l = JSON.parse(readFileSync(file, "utf8")) as Ledger;
  if (l.version !== 1 || typeof l.targets !== "object" || !Array.isArray(l.sessions)) throw new Error(`${file}: not a fuzz campaign ledger (version 1)`);
  return l;
}

/** write-then-rename: a kill leaves the old ledger or the new one, never half of one */
export function writeLedger(file: string, l: Ledger): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(l, null, 1)}\n`);
  renameSync(tmp, file);
}

function entry(l: Ledger, target: string): LedgerTarget {
  return (l.targets[target] ??= { cpuSeconds: 0, wallSeconds: 0, execs: 0, chunks: 0, peakRssMb: 0, outcomes: {}, findings: [] });
}

/** Adds one chunk's results (and its failure, if the child died) to the ledger. Pure apart from `saveInput`. */
export function addChunk(l: Ledger, report: ChildRunReport, saveInput: (target: string, hex: string) => string, date = new Date().toISOString()): void {
  for (const r of report.results) {
    const e = entry(l, r.target);
    if (r.skipped) {
      e.skipped = r.skipped;
      continue;
    }
    delete e.skipped;
    addResult(e, r);
    if (report.coverage && report.coverage.functionsReached > (e.coverage?.functionsReached ?? -1)) e.coverage = report.coverage;
    if (r.finding) e.findings.push({ date, kind: "property", message: r.finding.message.slice(0, 500), file: saveInput(r.target, r.finding.input), seed: r.seed });
  }
  if (report.failure) {
    const f = report.failure;
    const e = entry(l, f.target);
    e.chunks++;
    e.peakRssMb = Math.max(e.peakRssMb, f.peakRssMb);
    e.findings.push({ date, kind: f.kind, message: f.detail.slice(0, 500), file: saveInput(f.target, f.input), seed: -1 });
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function addResult(e: LedgerTarget, r: TargetReport): void {
  e.cpuSeconds = round1(e.cpuSeconds + (r.cpuSeconds ?? r.seconds));
  e.wallSeconds = round1(e.wallSeconds + r.seconds);
  e.execs += r.execs;
  e.chunks++;
  e.peakRssMb = Math.max(e.peakRssMb, r.peakRssMb);
  for (const [k, n] of Object.entries(r.outcomes ?? {})) e.outcomes[k] = (e.outcomes[k] ?? 0) + n;
}

/** The targets still short of their goal, least done (as a share of the goal) first. */
export function nextTargets(l: Ledger, all: string[], only?: RegExp): string[] {
  const done = (t: string) => (l.targets[t]?.cpuSeconds ?? 0) / (goalMinutes(t) * 60);
  return all.filter((t) => (!only || only.test(t)) && done(t) < 1 && !l.targets[t]?.skipped).sort((a, b) => done(a) - done(b) || a.localeCompare(b));
}

export interface CampaignOptions {
  ledgerFile: string;
  jobs: number;
  chunkSeconds: number;
  hours: number;
  only?: RegExp;
  heapMb?: number;
  log: (line: string) => void;
}

export async function runCampaign(all: string[], opts: CampaignOptions): Promise<Ledger> {
  const started = new Date().toISOString();
  const deadline = Date.now() + opts.hours * 3600_000;
  const running = new Set<string>();
  let stopping = false;
  let chunks = 0;
  let cpu = 0;
  const stop = () => {
    if (!stopping) opts.log("campaign: stopping after the running chunks (a second signal kills them; their time is then lost)");
    else process.exit(130);
    stopping = true;
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const saveInput = (target: string, hex: string): string => {
    mkdirSync(FINDINGS_DIR, { recursive: true });
    const name = `${target}-${new Date().toISOString().replace(/[:.]/g, "-")}.bin`;
    writeFileSync(join(FINDINGS_DIR, name), Buffer.from(hex, "hex"));
    return `campaign-findings/${name}`;
  };
  const commit = gitCommit();
  const worker = async (): Promise<void> => {
    while (!stopping && Date.now() < deadline) {
      // re-read on every pick: another campaign (another machine's, merged) may have moved the ledger on
      const ledger = readLedger(opts.ledgerFile);
      const target = nextTargets(ledger, all, opts.only).find((t) => !running.has(t));
      if (!target) return;
      const left = goalMinutes(target) * 60 - (ledger.targets[target]?.cpuSeconds ?? 0);
      const seconds = Math.max(10, Math.min(opts.chunkSeconds, Math.ceil(left), Math.floor((deadline - Date.now()) / 1000)));
      if (seconds < 10 && Date.now() + 10_000 > deadline) return;
      running.add(target);
      const seed = (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
      const report = await runInChild({ targets: [target], seconds: [seconds], seed, heapMb: opts.heapMb, coverage: true });
      running.delete(target);
      const l = readLedger(opts.ledgerFile);
      addChunk(l, report, saveInput);
      chunks++;
      const r = report.results[0];
      cpu += r?.cpuSeconds ?? 0;
      // the run's line is kept current after every chunk, so a run that is killed (or a machine that stops) still counts;
      // synchronous from read to write, so two workers never interleave
      recordSession(l, { started, ended: new Date().toISOString(), commit, jobs: opts.jobs, chunks, cpuSeconds: Math.round(cpu), node: process.version, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) });
      writeLedger(opts.ledgerFile, l);
      const e = l.targets[target]!;
      const status = report.failure ? `${report.failure.kind.toUpperCase()}: ${report.failure.detail}` : r?.skipped ? `skipped: ${r.skipped}` : r?.finding ? `FINDING: ${r.finding.message.slice(0, 200)}` : "ok";
      opts.log(
        `campaign ${target}: ${status}; chunk ${r ? `${r.execs} execs, ${r.seconds.toFixed(0)} s wall, ${(r.cpuSeconds ?? 0).toFixed(0)} s CPU` : "lost"}, seed ${seed}; ` +
          `total ${(e.cpuSeconds / 60).toFixed(1)} of ${goalMinutes(target)} CPU minutes`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, () => worker()));
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  return readLedger(opts.ledgerFile);
}

/** A campaign run's line in the ledger: replaced where the run (its start time) is already listed, added otherwise. */
export function recordSession(l: Ledger, line: Ledger["sessions"][number]): void {
  const i = l.sessions.findIndex((x) => x.started === line.started);
  if (i >= 0) l.sessions[i] = line;
  else l.sessions.push(line);
}

function gitCommit(): string {
  const r = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: SRC_DIR, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

const fmtMin = (s: number) => (s / 60).toFixed(1);

/** The ledger as the markdown table of docs/fuzzing.md. */
export function campaignTable(l: Ledger, all: string[]): string {
  const rows = [
    "| target | CPU minutes (goal) | wall minutes | inputs | inputs per CPU second | peak RSS, MB | src functions reached | outcomes | findings |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ];
  let cpu = 0;
  let met = 0;
  for (const t of all) {
    const e = l.targets[t];
    const goal = goalMinutes(t);
    if (!e || (e.chunks === 0 && !e.skipped)) {
      rows.push(`| \`${t}\` | 0 (${goal}) | 0 | 0 | | | | | |`);
      continue;
    }
    cpu += e.cpuSeconds;
    if (e.cpuSeconds >= goal * 60) met++;
    const rate = e.cpuSeconds > 0 ? Math.round(e.execs / e.cpuSeconds) : 0;
    const outcomes = Object.entries(e.outcomes).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${k} ${Math.round((100 * n) / Math.max(1, e.execs))} %`).join(", ");
    const findings = e.findings.length === 0 ? (e.skipped ? `skipped: ${e.skipped}` : "none") : e.findings.map((f) => `${f.kind}: ${f.message.slice(0, 80)}`).join("; ");
    rows.push(`| \`${t}\` | ${fmtMin(e.cpuSeconds)} (${goal}) | ${fmtMin(e.wallSeconds)} | ${e.execs} | ${rate} | ${e.peakRssMb} | ${e.coverage ? `${e.coverage.functionsReached} of ${e.coverage.functions}` : ""} | ${outcomes} | ${findings.replace(/\|/g, "\\|")} |`);
  }
  const sessions = l.sessions.length;
  rows.push("", `${met} of ${all.length} targets at their goal; ${fmtMin(cpu)} CPU minutes in all, over ${sessions} campaign run${sessions === 1 ? "" : "s"}.`);
  return rows.join("\n");
}

const START = "<!-- campaign:start (generated by `npm run fuzz -- --campaign-report --write docs/fuzzing.md`) -->";
const END = "<!-- campaign:end -->";

/** Replaces the generated part of a markdown file (between the markers) with `table`. */
export function spliceDoc(doc: string, table: string): string {
  const a = doc.indexOf("<!-- campaign:start");
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`the document has no campaign markers (${START} ... ${END})`);
  return `${doc.slice(0, a)}${START}\n${table}\n${doc.slice(b)}`;
}
