// Spec test runner for the official v0.12.3 vectors.
//
//   node dist/test/spec/run.js [--preset minimal|mainnet] [--filter <substring of the case id>]
//
// Default: tests/general/phase0 and tests/minimal/phase0; --preset mainnet: tests/mainnet/phase0 only.
// Every <runner>/<handler> directory needs a registered case function: an unknown one fails each of its cases.
// A case is only skipped if its id is in SKIPPED_CASES, with the reason printed and written to the report.
// The last line printed is always "N passed, N failed, N skipped"; exit code 1 on any failure or if nothing ran.
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getNamedConfig } from "../../src/config/index.js";
import { ensureSpecTests, specTestsCacheDir, type TestPreset } from "./download.js";
import { createSpecCase, type Runner } from "./harness.js";
import { blsRunner } from "./runners/bls.js";
import { epochProcessingRunner } from "./runners/epochProcessing.js";
import { finalityRunner } from "./runners/finality.js";
import { genesisRunner } from "./runners/genesis.js";
import { operationsRunner } from "./runners/operations.js";
import { rewardsRunner } from "./runners/rewards.js";
import { sanityRunner } from "./runners/sanity.js";
import { shufflingRunner } from "./runners/shuffling.js";
import { sszGenericRunner } from "./runners/sszGeneric.js";
import { sszStaticRunner } from "./runners/sszStatic.js";
import { checkTransitionCli } from "./transitionCli.js";

const RUNNERS: Record<string, Runner> = {
  bls: blsRunner,
  ssz_generic: sszGenericRunner,
  ssz_static: sszStaticRunner,
  shuffling: shufflingRunner,
  operations: operationsRunner,
  epoch_processing: epochProcessingRunner,
  rewards: rewardsRunner,
  sanity: sanityRunner,
  finality: finalityRunner,
  genesis: genesisRunner,
};

const DRAFT_03_INFINITY =
  "draft-03 behaviour of the point at infinity; v1.0, blst and every launched client follow draft-04";

/** The only cases not run, by exact id, each with its reason. */
const SKIPPED_CASES: Record<string, string> = {
  // draft-03 KeyValidate accepted the identity public key, so infinity/infinity verified as true; draft-04 (and the
  // v1.0 vectors, which expect false) reject the infinity public key.
  "general/phase0/bls/verify/small/verify_infinity_pubkey_and_infinity_signature": DRAFT_03_INFINITY,
};

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  ms: number;
}

interface Failure {
  id: string;
  message: string;
}

function parseArgs(argv: string[]): { presets: TestPreset[]; filter: string | undefined } {
  let preset = "minimal";
  let filter: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      if (v === undefined) usage(`${arg} needs a value`);
      return v;
    };
    if (arg === "--preset" || arg.startsWith("--preset=")) preset = value();
    else if (arg === "--filter" || arg.startsWith("--filter=")) filter = value();
    else if (arg === "--help" || arg === "-h") usage();
    else usage(`unknown argument ${arg}`);
  }
  if (preset === "minimal") return { presets: ["general", "minimal"], filter };
  if (preset === "mainnet") return { presets: ["mainnet"], filter };
  return usage(`unknown preset ${preset}`);
}

function usage(error?: string): never {
  if (error) console.error(error);
  console.error("usage: node dist/test/spec/run.js [--preset minimal|mainnet] [--filter <substring>]");
  process.exit(error ? 2 : 0);
}

function subdirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** A markdown section, or nothing when it has no lines. */
function section(title: string, lines: string[]): string[] {
  return lines.length ? ["", `## ${title}`, "", ...lines] : [];
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

async function main(): Promise<void> {
  const { presets, filter } = parseArgs(process.argv.slice(2));
  const testsDir = await ensureSpecTests(presets);

  // Keyed by "<preset>/<runner>/<handler>", in walk order.
  const counts = new Map<string, Counts>();
  const failures: Failure[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const unregistered: string[] = [];
  const seenIds = new Set<string>();

  for (const preset of presets) {
    const config = getNamedConfig(preset === "mainnet" ? "mainnet" : "minimal");
    const phaseDir = join(testsDir, preset, "phase0");
    for (const runnerName of subdirs(phaseDir)) {
      // hasOwn: a directory named like an Object.prototype member must not find a "function".
      const runner = Object.hasOwn(RUNNERS, runnerName) ? RUNNERS[runnerName] : undefined;
      for (const handler of subdirs(join(phaseDir, runnerName))) {
        const fn = runner && Object.hasOwn(runner.handlers, handler) ? runner.handlers[handler] : undefined;
        const groupId = `${preset}/phase0/${runnerName}/${handler}`;
        const missingMessage = runner
          ? `no case function registered for handler "${handler}" of runner "${runnerName}"`
          : `no runner registered for "${runnerName}"`;
        let reportedMissing = false;
        const key = `${preset}/${runnerName}/${handler}`;

        for (const suite of subdirs(join(phaseDir, runnerName, handler))) {
          for (const name of subdirs(join(phaseDir, runnerName, handler, suite))) {
            const id = `${groupId}/${suite}/${name}`;
            if (filter && !id.includes(filter)) continue;
            seenIds.add(id);
            let count = counts.get(key);
            if (!count) counts.set(key, (count = { passed: 0, failed: 0, skipped: 0, ms: 0 }));

            const skipReason = Object.hasOwn(SKIPPED_CASES, id) ? SKIPPED_CASES[id] : undefined;
            if (skipReason !== undefined) {
              count.skipped++;
              skipped.push({ id, reason: skipReason });
              continue;
            }
            if (!fn) {
              if (!reportedMissing) {
                console.log(`UNREGISTERED ${groupId}: ${missingMessage}`);
                unregistered.push(groupId);
                reportedMissing = true;
              }
              count.failed++;
              failures.push({ id, message: missingMessage });
              continue;
            }

            const dir = join(phaseDir, runnerName, handler, suite, name);
            const start = performance.now();
            try {
              await fn(createSpecCase({ dir, id, preset, runner: runnerName, handler, suite, name, config }));
              count.passed++;
            } catch (e) {
              const message = e instanceof Error ? e.message : String(e);
              count.failed++;
              failures.push({ id, message });
              console.log(`FAIL ${id}: ${message.split("\n")[0]}`);
            }
            count.ms += performance.now() - start;
          }
        }
      }
    }
  }

  // Beyond the vectors' own checks: the CLI reproduces every sanity/blocks post-state root from the files.
  for (const preset of presets) {
    if (preset === "general") continue;
    const r = await checkTransitionCli(testsDir, preset, filter);
    if (r.passed + r.failed === 0) continue;
    counts.set(`${preset}/cairn_transition_cli/sanity_blocks`, { passed: r.passed, failed: r.failed, skipped: 0, ms: 0 });
    failures.push(...r.failures);
  }

  const total = { passed: 0, failed: 0, skipped: 0 };
  const summaryLines: string[] = [];
  const width = Math.max(0, ...[...counts.keys()].map((k) => k.length));
  for (const [key, c] of counts) {
    total.passed += c.passed;
    total.failed += c.failed;
    total.skipped += c.skipped;
    summaryLines.push(
      `${key.padEnd(width)}  ${String(c.passed).padStart(5)} passed  ${String(c.failed).padStart(4)} failed  ` +
        `${String(c.skipped).padStart(2)} skipped  ${formatMs(c.ms)}`,
    );
  }
  // A skip entry that matches no case means the list is stale (or the vectors changed): say so.
  const staleSkips = filter
    ? []
    : Object.keys(SKIPPED_CASES).filter((id) => presets.some((p) => id.startsWith(`${p}/`)) && !seenIds.has(id));
  const notes = [...new Set(Object.values(RUNNERS))].flatMap((r) => r.notes?.() ?? []);

  console.log("\nSummary per runner/handler:");
  for (const line of summaryLines) console.log(`  ${line}`);
  for (const note of notes) console.log(`note: ${note}`);
  for (const id of staleSkips) console.log(`WARNING: skip entry matches no case: ${id}`);
  console.log(`\nSkipped (${skipped.length}):`);
  for (const s of skipped) console.log(`  ${s.id}: ${s.reason}`);
  if (failures.length > 0) {
    console.log(`\nFailed: ${failures.length} (messages above; unregistered directories: ${unregistered.length})`);
  }

  const reportPath = join(specTestsCacheDir(), `report-${presets.join("+")}.md`);
  writeFileSync(
    reportPath,
    [
      `# Cairn spec tests v0.12.3: ${presets.join(" + ")}${filter ? ` (filter "${filter}")` : ""}`,
      "",
      `${new Date().toISOString()}: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`,
      "",
      "## Per runner/handler",
      "",
      "```",
      ...summaryLines,
      "```",
      ...section("Notes", notes.map((n) => `- ${n}`)),
      "",
      `## Skipped (${skipped.length})`,
      "",
      ...skipped.map((s) => `- \`${s.id}\`: ${s.reason}`),
      ...section("Unregistered runner/handler directories", unregistered.map((u) => `- \`${u}\``)),
      ...section(`Failures (${failures.length})`, failures.map((f) => `- \`${f.id}\`: ${f.message}`)),
      "",
    ].join("\n"),
  );
  console.log(`\nReport: ${reportPath}`);

  const ran = total.passed + total.failed;
  if (ran === 0) console.log("no test case ran");
  console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  process.exitCode = total.failed > 0 || ran === 0 ? 1 : 0;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  console.log("0 passed, 1 failed, 0 skipped");
  process.exitCode = 1;
});
