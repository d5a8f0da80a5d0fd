// Reads the per-epoch series of `cairn harness --series FILE` (one or more files: a long run in steps) and prints
// what docs/performance.md reports: RSS over time, import times of the first and last 100 epochs without finality,
// and the epochs after finality returned (the archive run, the longest import and event-loop stall).
//
//   node dist/test/perf/harnessSeries.js SERIES.jsonl [MORE.jsonl] [--every N] [--downsample OUT.jsonl]
//
// --every N: RSS table rows every N epochs (default 50). --downsample OUT: write every Nth row, and every row from
// 10 epochs before finality returned, to OUT (small enough to commit).
import { readFileSync, writeFileSync } from "node:fs";
import type { EpochRow } from "../../src/chain/harness/harness.js";
import { median } from "./harness.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  if (v === undefined) throw new Error(`${name} needs a value`);
  return v;
};
const every = Number(opt("--every") ?? 50);
const downsample = opt("--downsample");
if (args.length === 0 || !Number.isInteger(every) || every < 1) {
  console.error("usage: harnessSeries.js SERIES.jsonl [MORE.jsonl] [--every N] [--downsample OUT.jsonl]");
  process.exit(2);
}
const rows: EpochRow[] = args.flatMap((f) =>
  readFileSync(f, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as EpochRow),
);
const fmt = (x: number | undefined) => (x === undefined ? "-" : Number(x.toFixed(1)).toString());
const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), 0);

const firstFinal = rows.findIndex((r) => r.finalizedEpoch > 0);
const unfinalized = firstFinal < 0 ? rows : rows.slice(0, firstFinal);
const warm = unfinalized.slice(0, 100);
const last = unfinalized.slice(-100);
const medianOf = (rs: EpochRow[], k: "importMsMedian" | "importCpuMsMedian") => {
  const xs = rs.map((r) => r[k]).filter((x) => typeof x === "number");
  return xs.length ? median(xs) : undefined;
};

console.log(`epochs: ${rows.length} (${unfinalized.length} without finality), last epoch ${rows.at(-1)?.epoch}`);
console.log("\n| epoch | wall s | RSS MB | heap MB | fork-choice nodes | hot states | import ms median (epoch) |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  if (r.epoch % every === 0 || r === rows.at(-1) || r === rows[firstFinal]) {
    console.log(`| ${r.epoch} | ${fmt(r.wallS)} | ${r.rssMb} | ${r.heapMb} | ${r.forkChoiceNodes} | ${r.hotStates} | ${fmt(r.importMsMedian)} |`);
  }
}
const rss = unfinalized.map((r) => r.rssMb);
console.log(`\nRSS without finality: min ${Math.min(...rss)} MB, max ${max(rss)} MB; after epoch 50: min ${Math.min(...rss.slice(50))}, max ${max(rss.slice(50))}`);
console.log(`peak RSS over the series: ${max(rows.map((r) => r.rssMb))} MB (sampled once an epoch)`);
console.log(
  `import ms, median of the per-epoch medians: first 100 epochs ${fmt(medianOf(warm, "importMsMedian"))}, last 100 without finality ${fmt(medianOf(last, "importMsMedian"))}`,
);
console.log(
  `import CPU ms, same: first 100 ${fmt(medianOf(warm, "importCpuMsMedian"))}, last 100 ${fmt(medianOf(last, "importCpuMsMedian"))} (series without CPU figures: -)`,
);
console.log(
  `longest import / event-loop stall in the last 100 epochs without finality: ${fmt(max(last.map((r) => r.importMsMax)))} ms / ${fmt(max(last.map((r) => r.loopStallMsMax)))} ms`,
);
if (firstFinal >= 0) {
  console.log(`\nfinality returned: epoch ${rows[firstFinal].epoch} (finalized ${rows[firstFinal].finalizedEpoch})`);
  console.log("| epoch | justified | finalized | RSS MB | import ms median / max | loop stall max ms | fork-choice nodes | hot states | archived |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows.slice(Math.max(0, firstFinal - 2))) {
    const a = r.archived ? `epoch ${r.archived.epoch}: ${r.archived.blocksMoved} moved, ${r.archived.blocksDeleted} deleted, ${r.archived.hotStatesPruned} states pruned, ${r.archived.ms} ms` : "";
    console.log(
      `| ${r.epoch} | ${r.justifiedEpoch} | ${r.finalizedEpoch} | ${r.rssMb} | ${fmt(r.importMsMedian)} / ${fmt(r.importMsMax)} | ${fmt(r.loopStallMsMax)} | ${r.forkChoiceNodes} | ${r.hotStates} | ${a} |`,
    );
  }
}
if (downsample) {
  const keepFrom = firstFinal < 0 ? rows.length : Math.max(0, firstFinal - 10);
  const kept = rows.filter((r, i) => i >= keepFrom || r.epoch % every === 0 || i === 0);
  writeFileSync(downsample, kept.map((r) => JSON.stringify(r)).join("\n") + "\n");
  console.log(`\n${kept.length} rows written to ${downsample}`);
}
