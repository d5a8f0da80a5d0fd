// `npm run bench [-- options]`: Cairn and Lodestar side by side on the same mainnet-preset phase 0 states.
//
//   --validators N|all   16384, 100000 (default) or 250000, or all three; several may be given: --validators 16384,100000
//   --runs R             measured runs per figure and round (default 7); each after --warmup W unrecorded runs (default 5)
//   --rounds K           how many times each implementation's process runs, alternating which goes first (default 2);
//                        a figure's median is over all its runs of all rounds, so load changes on a shared machine
//                        hit both implementations alike
//   --no-cairn-only      skip Cairn's own benchmarks (block import with BLS, shuffling, block decoding, fork choice)
//   --import-only        only Cairn's block import figures (with BLS), K rounds of them: no Lodestar, no comparison
//   --ssz-only           only state serialize, deserialize and fresh hashTreeRoot (no transitions, RSS passes, Cairn only)
//   --out FILE           where the JSON goes (default test/perf/results/<date>.json, sync-<date>.json with --sync)
//   --sync               instead: the sync benchmark (syncBench.ts) at 16384 and 100000 validators (or --validators),
//                        one line per size; --sync-epochs E chain length (default 8), --sync-bls-workers W the syncing
//                        node's BLS threads (default 2), --sync-prof DIR a CPU profile of the syncing node,
//                        --sync-keys-cold the peer dialled at once (not after the BLS workers preloaded the keys)
//
// Inputs are built once per registry size and cached in ~/.cache/cairn/bench (see fixtures.ts, pubkeys.ts). Each
// implementation runs in its own process (child.ts), so its peak RSS is its own; both must reach the same
// post-state roots, or the bench fails.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CairnOnlyResult } from "./cairnOnly.js";
import { RESULT_PREFIX } from "./files.js";
import type { FixtureMeta } from "./fixtures.js";
import { median, summarize, type ImplResult, type Timing } from "./harness.js";

const SIZES = [16384, 100_000, 250_000];
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../..");
const lodestarDir = join(repo, "test/perf/lodestar");

interface Args {
  validators: number[];
  runs: number;
  warmup: number;
  rounds: number;
  cairnOnly: boolean;
  importOnly: boolean;
  sszOnly: boolean;
  out: string;
  sync: boolean;
  syncEpochs: number;
  syncBlsWorkers: number;
  syncProf?: string;
  syncKeysCold?: boolean;
  validatorsGiven: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    validators: [100_000],
    runs: 7,
    warmup: 5,
    rounds: 2,
    cairnOnly: true,
    importOnly: false,
    sszOnly: false,
    sync: false,
    syncEpochs: 8,
    syncBlsWorkers: 2,
    validatorsGiven: false,
    out: join(repo, "test/perf/results", `${new Date().toISOString().slice(0, 19).replace(/:/g, "-")}.json`),
  };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name}: expected an integer >= ${min}, got ${v}`);
    return n;
  };
  let outGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--validators": {
        const v = argv[++i];
        args.validators = v === "all" ? SIZES : (v ?? "").split(",").map((x) => int("--validators", x, 1));
        args.validatorsGiven = true;
        for (const n of args.validators) {
          if (!SIZES.includes(n)) throw new Error(`--validators: one of ${SIZES.join(", ")} or all, got ${n}`);
        }
        break;
      }
      case "--runs":
        args.runs = int(a, argv[++i], 5);
        break;
      case "--warmup":
        args.warmup = int(a, argv[++i], 0);
        break;
      case "--rounds":
        args.rounds = int(a, argv[++i], 1);
        break;
      case "--no-cairn-only":
        args.cairnOnly = false;
        break;
      case "--import-only":
        args.importOnly = true;
        break;
      case "--ssz-only":
        args.sszOnly = true;
        args.cairnOnly = false;
        break;
      case "--sync":
        args.sync = true;
        break;
      case "--sync-epochs":
        args.syncEpochs = int(a, argv[++i], 2);
        break;
      case "--sync-bls-workers":
        args.syncBlsWorkers = int(a, argv[++i], 1);
        break;
      case "--sync-keys-cold":
        args.syncKeysCold = true;
        break;
      case "--sync-prof":
        args.syncProf = resolve(argv[++i] ?? "");
        break;
      case "--out":
        args.out = resolve(argv[++i] ?? "");
        outGiven = true;
        break;
      case "--help":
      case "-h":
        process.stdout.write(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(0, 17).join("\n").replace(/^\/\/ ?/gm, "") + "\n");
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  if (args.sync && !outGiven) args.out = join(dirname(args.out), `sync-${basename(args.out)}`);
  return args;
}

/** Runs `node child.js ...` and returns its result line; its stderr (progress) is passed through. */
function runChild<T>(childArgs: string[], nodeArgs: string[] = []): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, [...nodeArgs, join(here, "child.js"), ...childArgs], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.setEncoding("utf8");
    p.stdout.on("data", (d: string) => (out += d));
    p.on("error", reject);
    p.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) reject(new Error(`benchmark process "${childArgs.join(" ")}" failed (exit code ${code})`));
      else resolvePromise(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
    });
  });
}

// V8's default heap settings for every implementation process (on this 24 GB machine: a ~4 GB heap limit).
const CHILD_NODE_ARGS: string[] = [];

interface SizeResult {
  validators: number;
  fixture: FixtureMeta;
  /** null with --import-only */
  cairn: MergedResult | null;
  lodestar: MergedResult | null;
  cairnOnly: CairnOnlyResult | null;
}

interface MergedResult {
  timings: Record<string, Timing>;
  roots: Record<string, string>;
  /** peak RSS of one pass of every step in a process of its own (runMemory), MB */
  peakRssMb: number;
  /** the highest peak RSS of the benchmark-loop processes, MB: mostly garbage not yet collected */
  loopPeakRssMb: number;
  loopPeakRssMbPerRound: number[];
  loadedRssMb: number;
}

interface MemoryResult {
  impl: string;
  peakRssMb: number;
  roots: Record<string, string>;
}

function merge(results: ImplResult[], memory: MemoryResult | null): MergedResult {
  const timings: Record<string, Timing> = {};
  for (const key of Object.keys(results[0].timings)) {
    timings[key] = summarize(results.flatMap((r) => r.timings[key].runs));
    if (results.every((r) => r.timings[key].cpu !== undefined)) {
      const cpuRuns = results.flatMap((r) => r.timings[key].cpu?.runs ?? []);
      timings[key].cpu = { median: median(cpuRuns), runs: cpuRuns };
    }
  }
  for (const r of results) {
    for (const [k, v] of Object.entries(r.roots)) {
      if (v !== results[0].roots[k]) throw new Error(`${r.impl}: ${k} root differs between rounds`);
    }
  }
  if (memory !== null) {
    for (const k of ["epochPost", "blockPost"]) {
      if (memory.roots[k] !== results[0].roots[k]) throw new Error(`${memory.impl}: ${k} root differs in the memory pass`);
    }
    if (memory.roots.deserialized !== results[0].roots.epochPre) throw new Error(`${memory.impl}: deserialized root differs in the memory pass`);
  }
  return {
    timings,
    roots: results[0].roots,
    peakRssMb: memory?.peakRssMb ?? NaN,
    loopPeakRssMb: Math.max(...results.map((r) => r.peakRssMb)),
    loopPeakRssMbPerRound: results.map((r) => r.peakRssMb),
    loadedRssMb: Math.max(...results.map((r) => r.loadedRssMb)),
  };
}

async function benchSize(n: number, args: Args): Promise<SizeResult> {
  process.stderr.write(`\n== ${n} validators\n`);
  const fixture = await runChild<FixtureMeta>(["prepare", "--validators", String(n)], ["--max-old-space-size=8192"]);
  const runArgs = ["--validators", String(n), "--warmup", String(args.warmup), "--runs", String(args.runs)];
  if (args.importOnly) return { validators: n, fixture, cairn: null, lodestar: null, cairnOnly: await importRounds(runArgs, args.rounds) };
  if (args.sszOnly) runArgs.push("--ssz-only");
  const cairn: ImplResult[] = [];
  const lodestar: ImplResult[] = [];
  for (let round = 0; round < args.rounds; round++) {
    const order = round % 2 === 0 ? (["cairn", "lodestar"] as const) : (["lodestar", "cairn"] as const);
    for (const impl of order) {
      process.stderr.write(`-- round ${round + 1}/${args.rounds}: ${impl}\n`);
      const r = await runChild<ImplResult>([impl, ...runArgs], CHILD_NODE_ARGS);
      (impl === "cairn" ? cairn : lodestar).push(r);
    }
  }
  let cairnMemory: MemoryResult | null = null;
  let lodestarMemory: MemoryResult | null = null;
  if (!args.sszOnly) {
    process.stderr.write(`-- peak RSS passes\n`);
    cairnMemory = await runChild<MemoryResult>(["cairn-rss", "--validators", String(n)], CHILD_NODE_ARGS);
    lodestarMemory = await runChild<MemoryResult>(["lodestar-rss", "--validators", String(n)], CHILD_NODE_ARGS);
  }
  const c = merge(cairn, cairnMemory);
  const l = merge(lodestar, lodestarMemory);
  const mismatches = Object.keys(c.roots).filter((k) => c.roots[k] !== l.roots[k]);
  if (mismatches.length > 0) {
    const detail = mismatches.map((k) => `  ${k}: cairn ${c.roots[k]} lodestar ${l.roots[k]}`).join("\n");
    throw new Error(`Cairn and Lodestar reached different roots from the same input:\n${detail}`);
  }
  process.stderr.write(`-- roots agree: ${Object.entries(c.roots).map(([k, v]) => `${k} ${v}`).join(", ")}\n`);
  let cairnOnly: CairnOnlyResult | null = null;
  if (args.cairnOnly) {
    process.stderr.write(`-- cairn only\n`);
    cairnOnly = await runChild<CairnOnlyResult>(["cairn-only", ...runArgs], CHILD_NODE_ARGS);
  }
  return { validators: n, fixture, cairn: c, lodestar: l, cairnOnly };
}

/** The cairn-only block import figures, `rounds` processes, their runs merged as `merge` does. */
async function importRounds(runArgs: string[], rounds: number): Promise<CairnOnlyResult> {
  const results: CairnOnlyResult[] = [];
  for (let round = 0; round < rounds; round++) {
    process.stderr.write(`-- round ${round + 1}/${rounds}: cairn block import\n`);
    results.push(await runChild<CairnOnlyResult>(["cairn-only", "--import-only", ...runArgs], CHILD_NODE_ARGS));
  }
  const timings: Record<string, Timing> = {};
  for (const key of Object.keys(results[0].timings)) timings[key] = summarize(results.flatMap((r) => r.timings[key].runs));
  return { ...results[0], timings, peakRssMb: Math.max(...results.map((r) => r.peakRssMb)) };
}

const COMPARED: [key: string, label: string][] = [
  ["epochTransition", "epoch transition (processSlots over the boundary, incl. clone + commit)"],
  ["block", "block, 128 attestations, no signature checks (incl. state root)"],
  ["hashTreeRootAfterEpoch", "hashTreeRoot after the epoch transition"],
  ["hashTreeRootFresh", "hashTreeRoot of a freshly deserialized state"],
  ["serialize", "state serialize"],
  ["deserialize", "state deserialize (to a tree)"],
];

const CAIRN_ONLY: [key: string, label: string][] = [
  ["blockImportPool2", "block import, all signatures checked, BLS on 2 worker threads"],
  ["blockImportPool2Cpu", "  CPU time of that import, all threads"],
  ["blockImportPool2MainThread", "  until the main thread is done with it (then it waits for the workers)"],
  ["blockImportPool1", "block import, all signatures checked, BLS on 1 worker thread"],
  ["blockImportOneThread", "block import, all signatures checked, BLS on the main thread"],
  ["blockImportOneThreadCpu", "  CPU time of that import"],
  ["signatureSets", "  of which: the block's signature sets (signing roots, committees)"],
  ["blsVerifyMainThread", "  of which: pubkey aggregation and one batch verification of those sets, one thread"],
  ["shuffling", "shuffling of the whole active registry (unshuffleList)"],
  ["decodeBlock", "decoding the block (SignedBeaconBlock, 128 attestations)"],
  ["forkChoiceVotes", "fork choice: every validator's vote moves (onAttestation)"],
  ["forkChoiceHead", "fork choice: getHead after that"],
  ["forkChoiceBlockShortChain", "fork choice: a slot's votes, a block and getHead, 10 epochs without finality"],
  ["forkChoiceBlockLongChain", "  the same after 1000 epochs without finality (32,000 nodes)"],
];

const ms = (t: Timing | undefined) => (t === undefined ? "-" : t.median < 10 ? t.median.toFixed(2) : t.median.toFixed(1));

export function formatTable(results: SizeResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`### ${r.validators.toLocaleString("en-US")} validators`, "");
    if (r.cairn && r.lodestar) {
      lines.push("| figure (median, ms) | Cairn | Lodestar | Cairn/Lodestar |", "|---|---:|---:|---:|");
      for (const [key, label] of COMPARED) {
        const c = r.cairn.timings[key];
        const l = r.lodestar.timings[key];
        if (c === undefined || l === undefined) continue;
        lines.push(`| ${label} | ${ms(c)} | ${ms(l)} | ${(c.median / l.median).toFixed(2)} |`);
      }
      const rss = (label: string, c: number, l: number) => lines.push(`| ${label} | ${c.toFixed(0)} | ${l.toFixed(0)} | ${(c / l).toFixed(2)} |`);
      if (!Number.isNaN(r.cairn.peakRssMb)) rss("peak RSS, MB: every step once, own process", r.cairn.peakRssMb, r.lodestar.peakRssMb);
      rss("peak RSS, MB: the benchmark loop's process", r.cairn.loopPeakRssMb, r.lodestar.loopPeakRssMb);
      lines.push("");
      const [rc, rl] = [r.cairn, r.lodestar];
      const cpuRows = COMPARED.filter(([key]) => rc.timings[key]?.cpu !== undefined && rl.timings[key]?.cpu !== undefined);
      if (cpuRows.length > 0) {
        lines.push("| CPU time of the same runs (median, ms: user + system, all threads) | Cairn | Lodestar | Cairn/Lodestar |", "|---|---:|---:|---:|");
        for (const [key, label] of cpuRows) {
          const c = r.cairn.timings[key].cpu?.median ?? NaN;
          const l = r.lodestar.timings[key].cpu?.median ?? NaN;
          lines.push(`| ${label} | ${c.toFixed(1)} | ${l.toFixed(1)} | ${(c / l).toFixed(2)} |`);
        }
        lines.push("");
      }
    }
    if (r.cairnOnly) {
      lines.push("| Cairn only (median, ms) | |", "|---|---:|");
      for (const [key, label] of CAIRN_ONLY) {
        const t = r.cairnOnly.timings[key];
        if (t !== undefined) lines.push(`| ${label} | ${ms(t)} |`);
      }
      for (const note of r.cairnOnly.notes) lines.push(`| ${note} | |`);
      lines.push("");
    }
  }
  return lines.join("\n");
}

function versionOf(pkg: string, root = repo): string {
  try {
    return (JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

/** Lodestar lives in test/perf/lodestar with its own package.json; installed there on first use. */
async function ensureLodestar(): Promise<void> {
  const { LODESTAR_DIR, lodestarInstalled } = await import("./lodestarAdapter.js");
  if (lodestarInstalled()) return;
  process.stderr.write(`installing Lodestar's state transition into ${LODESTAR_DIR} (once) ...\n`);
  // `npm install`, not `npm ci`: the lockfile lacks the native packages of other platforms that this registry does
  // not have, which `npm ci` counts as out of sync.
  const r = spawnSync("npm", ["install", "--prefix", LODESTAR_DIR, "--no-audit", "--no-fund"], { stdio: "inherit" });
  if (r.status !== 0 || !lodestarInstalled()) throw new Error(`could not install Lodestar in ${LODESTAR_DIR}`);
}

function machineFacts(loadBefore: number[]) {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
  };
}

/** `--sync`: one line per size on stdout, the whole run in the JSON. */
async function mainSync(args: Args): Promise<void> {
  const { runSyncSize, API_INTERVAL_MS } = await import("./syncBench.js");
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const sizes = args.validatorsGiven ? args.validators : [16384, 100_000];
  const results = [];
  for (const n of sizes) {
    process.stderr.write(`\n== sync, ${n} validators\n`);
    const r = await runSyncSize(n, {
      epochs: args.syncEpochs,
      blsWorkers: args.syncBlsWorkers,
      cpuProfDir: args.syncProf,
      keysCold: args.syncKeysCold,
      log: (m) => process.stderr.write(m + "\n"),
    });
    process.stdout.write(r.line + "\n");
    results.push(r);
  }
  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineFacts(loadBefore),
    versions: { "@chainsafe/blst (cairn)": versionOf("@chainsafe/blst") },
    options: { sync: true, epochs: args.syncEpochs, blsWorkers: args.syncBlsWorkers, apiIntervalMs: API_INTERVAL_MS },
    sync: results,
    lines: results.map((r) => r.line),
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(report, null, 2) + "\n");
  process.stderr.write(`\nresults: ${args.out}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.sync) return mainSync(args);
  if (!args.importOnly) await ensureLodestar();
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const results: SizeResult[] = [];
  for (const n of args.validators) results.push(await benchSize(n, args));
  const table = formatTable(results);
  process.stdout.write("\n" + table + "\n");
  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineFacts(loadBefore),
    versions: {
      "@lodestar/state-transition": versionOf("@lodestar/state-transition", lodestarDir),
      "@chainsafe/lodestar-z": versionOf("@chainsafe/lodestar-z", lodestarDir),
      "@chainsafe/ssz (lodestar)": versionOf("@chainsafe/ssz", lodestarDir),
      "@chainsafe/persistent-merkle-tree (lodestar)": versionOf("@chainsafe/persistent-merkle-tree", lodestarDir),
      "@chainsafe/ssz (cairn)": versionOf("@chainsafe/ssz"),
      "@chainsafe/persistent-merkle-tree (cairn)": versionOf("@chainsafe/persistent-merkle-tree"),
      "@chainsafe/blst (cairn)": versionOf("@chainsafe/blst"),
    },
    options: { runs: args.runs, warmup: args.warmup, rounds: args.rounds, sszOnly: args.sszOnly },
    results,
    table,
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(report, null, 2) + "\n");
  process.stderr.write(`\nresults: ${args.out}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
