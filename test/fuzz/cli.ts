// `npm run fuzz -- --target NAME [--seconds N] [--runs N] [--seed N] [--heap-mb N]`, `--list`, `--all`,
// `--build-corpus`. Each run happens in a child process with a capped heap whose RSS is watched: running out of
// memory, crashing or hanging is a finding like a failed property, reported with the input that caused it.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { summarizeCoverage, type CoverageSummary } from "./coverage.js";
import type { RunResult } from "./engine.js";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "child.js");
const DIST_SRC = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");
const RESULT_PREFIX = "FUZZ-RESULT ";
const USAGE = `usage: npm run fuzz -- --target NAME [--seconds N] [--runs N] [--seed N] [--heap-mb N] [--coverage] | --all | --list | --build-corpus
       npm run fuzz -- --campaign [--jobs N] [--chunk-seconds N] [--hours N] [--only REGEX] [--ledger FILE]
       npm run fuzz -- --campaign-report [--write docs/fuzzing.md]`;

export interface ChildRunOptions {
  targets: string[];
  /** seconds per target (one value for all, or one per target) */
  seconds: number[];
  runs?: number;
  seed?: number;
  /** --max-old-space-size of the child */
  heapMb?: number;
  /** RSS above this kills the child: a memory-exhaustion finding. Default heap + 1 GiB (buffers live outside the heap). */
  rssCapMb?: number;
  /** Kill after this long: a hang finding. Default the sum of the seconds + 60 s (setup, shrinking). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** collect V8 coverage in the child and count the functions of src/ the inputs reached */
  coverage?: boolean;
}

export interface TargetReport extends RunResult {
  peakRssMb: number;
  /** user + system CPU seconds the child spent on this target */
  cpuSeconds: number;
}

export interface ChildRunReport {
  results: TargetReport[];
  coverage?: CoverageSummary;
  /** the process died, hung or outgrew its memory cap: which target and input */
  failure: { kind: "crash" | "hang" | "memory"; target: string; input: string; detail: string; peakRssMb: number } | null;
}

function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

export async function runInChild(opts: ChildRunOptions): Promise<ChildRunReport> {
  const heapMb = opts.heapMb ?? 1024;
  const rssCapMb = opts.rssCapMb ?? heapMb + 1024;
  const dir = mkdtempSync(join(tmpdir(), "cairn-fuzz-"));
  const inputFile = join(dir, "current-input");
  const args = { targets: opts.targets, seconds: opts.seconds, runs: opts.runs, seed: opts.seed, inputFile };
  const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, CHILD, JSON.stringify(args)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...(opts.env ?? process.env), ...(opts.coverage ? { NODE_V8_COVERAGE: join(dir, "coverage") } : {}) },
  });
  const results: TargetReport[] = [];
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf("\n")) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.startsWith(RESULT_PREFIX)) results.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as TargetReport);
      else process.stderr.write(`${line}\n`);
    }
  });
  child.stderr.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
    process.stderr.write(d);
  });
  let peak = 0;
  let killed = null as "hang" | "memory" | null;
  const poll = setInterval(() => {
    const mb = rssMb(child.pid!);
    if (mb === null) return;
    peak = Math.max(peak, mb);
    if (mb > rssCapMb && !killed) {
      killed = "memory";
      child.kill("SIGKILL");
    }
  }, 50);
  const timeoutMs = opts.timeoutMs ?? opts.targets.reduce((s, _, i) => s + (opts.seconds[i] ?? opts.seconds[0]!) * 1000, 0) + 60_000;
  const timer = setTimeout(() => {
    if (!killed) {
      killed = "hang";
      child.kill("SIGKILL");
    }
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearInterval(poll);
  clearTimeout(timer);
  let failure: ChildRunReport["failure"] = null;
  if (killed || code !== 0) {
    let target = opts.targets[results.length] ?? "?";
    let input = "";
    if (existsSync(inputFile)) {
      const b = readFileSync(inputFile);
      if (b.length >= 8) {
        target = opts.targets[b.readUInt32LE(0)] ?? target;
        input = b.subarray(8, 8 + b.readUInt32LE(4)).toString("hex");
      }
    }
    const kind = killed ?? "crash";
    const detail =
      kind === "memory" ? `RSS above ${rssCapMb} MB` : kind === "hang" ? `no result within ${timeoutMs} ms` : `exit code ${code}: ${err.trim().split("\n").slice(-6).join(" | ")}`;
    failure = { kind, target, input, detail, peakRssMb: peak };
  }
  let coverage: CoverageSummary | undefined;
  if (opts.coverage && existsSync(join(dir, "coverage"))) coverage = summarizeCoverage(join(dir, "coverage"), DIST_SRC);
  rmSync(dir, { recursive: true, force: true });
  return { results, failure, coverage };
}

function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      out[a.slice(2)] = next;
      i++;
    } else out[a.slice(2)] = true;
  }
  return out;
}

function num(v: string | true | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !Number.isFinite(n) || n < 0) throw new Error(`--${what} needs a non-negative number`);
  return n;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const { allTargets } = await import("./targets/index.js");
  if (args.list) {
    for (const t of allTargets()) process.stdout.write(`${t.name}\n`);
    return 0;
  }
  if (args["build-corpus"]) {
    const { buildCorpus } = await import("./buildCorpus.js");
    for (const line of buildCorpus(allTargets())) process.stdout.write(`${line}\n`);
    return 0;
  }
  if (args.campaign || args["campaign-report"]) {
    const c = await import("./campaign.js");
    const all = allTargets().map((t) => t.name);
    const ledgerFile = typeof args.ledger === "string" ? args.ledger : c.DEFAULT_LEDGER;
    if (args.campaign) {
      await c.runCampaign(all, {
        ledgerFile,
        jobs: num(args.jobs, "jobs") ?? 1,
        chunkSeconds: num(args["chunk-seconds"], "chunk-seconds") ?? 300,
        hours: num(args.hours, "hours") ?? 24,
        only: typeof args.only === "string" ? new RegExp(args.only) : undefined,
        heapMb: num(args["heap-mb"], "heap-mb"),
        log: (line) => process.stdout.write(`${line}\n`),
      });
    }
    const table = c.campaignTable(c.readLedger(ledgerFile), all);
    if (typeof args.write === "string") writeFileSync(args.write, c.spliceDoc(readFileSync(args.write, "utf8"), table));
    else process.stdout.write(`${table}\n`);
    return 0;
  }
  const names = args.all ? allTargets().map((t) => t.name) : typeof args.target === "string" ? args.target.split(",") : [];
  if (names.length === 0) throw new Error(USAGE);
  const known = new Set(allTargets().map((t) => t.name));
  for (const n of names) if (!known.has(n)) throw new Error(`unknown fuzz target "${n}" (npm run fuzz -- --list)`);
  const seconds = num(args.seconds, "seconds") ?? (args.runs ? 3600 : 10);
  const report = await runInChild({
    targets: names,
    seconds: [seconds],
    runs: num(args.runs, "runs"),
    seed: num(args.seed, "seed"),
    heapMb: num(args["heap-mb"], "heap-mb"),
    coverage: args.coverage === true,
  });
  let failed = false;
  for (const r of report.results) {
    const rate = r.seconds > 0 ? Math.round(r.execs / r.seconds) : 0;
    const status = r.skipped ? `skipped: ${r.skipped}` : r.finding ? "FINDING" : "ok";
    const outcomes = r.outcomes && Object.keys(r.outcomes).length > 0 ? ` [${Object.entries(r.outcomes).map(([k, n]) => `${k} ${n}`).join(", ")}]` : "";
    process.stdout.write(`${r.target}: ${status}; ${r.execs} execs in ${r.seconds.toFixed(1)} s (${rate}/s), ${r.seeds} seeds, peak RSS ${r.peakRssMb} MB, seed ${r.seed}${outcomes}\n`);
    if (r.finding) {
      failed = true;
      process.stdout.write(`  ${r.finding.message}\n  input (hex, minimized): ${r.finding.input.slice(0, 400)}${r.finding.input.length > 400 ? "..." : ""}\n`);
      saveFinding(r.target, r.finding.input, r.finding.message);
    }
  }
  if (report.coverage) process.stdout.write(`coverage: ${coverageText(report.coverage)}\n`);
  if (report.failure) {
    failed = true;
    const f = report.failure;
    process.stdout.write(`${f.target}: ${f.kind.toUpperCase()} (${f.detail}); peak RSS ${f.peakRssMb} MB\n`);
    saveFinding(f.target, f.input, `${f.kind}: ${f.detail}`);
  }
  return failed ? 1 : 0;
}

export function coverageText(c: CoverageSummary): string {
  return `${c.functionsReached} of ${c.functions} functions (${((100 * c.functionsReached) / Math.max(1, c.functions)).toFixed(1)} %) in the ${c.modules} modules of src/ loaded`;
}

/** Findings go outside the repository until someone turns them into a regression test. */
function saveFinding(target: string, hex: string, message: string): void {
  const dir = join(tmpdir(), "cairn-fuzz-findings");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${target}-${Date.now()}.bin`);
  writeFileSync(file, Buffer.from(hex, "hex"));
  writeFileSync(`${file}.txt`, `${message}\n`);
  process.stdout.write(`  saved ${file}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(2);
    },
  );
}
