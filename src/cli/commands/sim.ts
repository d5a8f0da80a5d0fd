// cairn sim: the incident simulator. Runs a scenario (YAML: nodes, validators, a timeline of time, network, process
// and validator faults, and bounds) on a local testnet, checks the invariants while it runs and at the end, writes
// report.json and report.html, and exits 0 only when every invariant is met.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runSimulation } from "../../sim/engine.js";
import { writeReport } from "../../sim/report.js";
import { expandScenario, parseScenario, ScenarioError } from "../../sim/scenario.js";
import { CliError, errorMessage, type Command, type Io } from "../common.js";
import { flag, logLevel, optionsHelp, parseOptions, str, uint } from "../options.js";

const NAME = "sim";
const builtInDir = fileURLToPath(new URL("../../../../scenarios/", import.meta.url));

const OPTIONS = {
  seed: uint("<N>", "the seed of every random choice (fault times, nodes, validators); the same seed replays the\nsame run (default {default})", { default: 1 }),
  out: str("<DIR>", "where the nodes' directories, logs and the reports go (default: a new temporary directory)"),
  "base-port": uint("<P>", "node i uses TCP P+i, UDP P+100+i, REST P+200+i, metrics P+300+i (default {default})", { default: 23000 }),
  clock: str("<median|mean>", "override the scenario's clock for its roughtime nodes: median (Cairn's: checks and warns)\nor mean (follows the mean of the time sources: UNSAFE, the Medalla bug)"),
  "check-only": flag("parse the scenario and print its events for this seed; run nothing"),
  "log-level": logLevel("info", " (the nodes')"),
};

const help = `Usage: cairn sim <SCENARIO.yaml | NAME> [--seed <N>] [--out <DIR>] [--clock <median|mean>] [--base-port <P>]
                 [--check-only]

Replays an incident on purpose: a local testnet of real cairn beacon and cairn validator processes on 127.0.0.1,
with the scenario's faults applied at their slots (clock offsets and lying SNTP servers, links cut or made slow and
lossy at per-link TCP proxies, kill -9 and restarts, validators offline, slashing protection lost), and checks the
invariants: a network-wide slashing audit, heads agreeing after a heal, finality regained after participation
returns, no crash the scenario did not cause, memory, regen queue and fork-choice bounds. The time-bound ones are
printed on stderr when decided, during the run.
Built-in scenarios (give the NAME): ${listBuiltIn().join(", ")}.

${optionsHelp(OPTIONS)}
Writes <out>/report.json and <out>/report.html. The last line is
"sim <scenario>: N invariants met, N failed, slashable N"; the exit status is 0 only when every invariant is met,
1 when one failed, 2 for a bad scenario or options.
`;

function listBuiltIn(): string[] {
  try {
    return readdirSync(builtInDir)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => f.slice(0, -".yaml".length))
      .sort();
  } catch {
    return []; // an installation without scenarios/: files only
  }
}

function scenarioPath(arg: string): string {
  if (existsSync(arg)) return arg;
  const builtIn = join(builtInDir, `${arg}.yaml`);
  if (/^[a-z0-9-]+$/.test(arg) && existsSync(builtIn)) return builtIn;
  throw new CliError(`no scenario ${JSON.stringify(arg)}: not a file, nor a built-in one (${listBuiltIn().join(", ")})`);
}

async function run(args: string[], io: Io): Promise<number> {
  const { values: v, tokens } = parseOptions(NAME, OPTIONS, args, { allowPositionals: true });
  const positionals = tokens.filter((t) => t.kind === "positional").map((t) => (t as { value: string }).value);
  if (positionals.length !== 1) throw new CliError(`expected one scenario (a YAML file or a built-in name) (see cairn ${NAME} --help)`);
  const path = scenarioPath(positionals[0]);
  let scenario;
  try {
    scenario = parseScenario(readFileSync(path, "utf8"), path);
  } catch (e) {
    if (e instanceof ScenarioError) throw new CliError(e.message);
    throw new CliError(`cannot read ${path}: ${errorMessage(e)}`);
  }
  const clock = v.clock;
  if (clock !== undefined) {
    if (clock !== "median" && clock !== "mean") throw new CliError(`--clock: median or mean, got ${JSON.stringify(clock)}`);
    scenario = { ...scenario, clock: clock as "median" | "mean" };
  }
  const basePort = v["base-port"];
  if (basePort < 1024 || basePort + 400 > 32768) throw new CliError("--base-port: from 1024 to 32368 (below the ephemeral ports the proxies use)");
  const seed = v.seed;
  if (v["check-only"]) {
    const plan = expandScenario(scenario, seed);
    for (const e of plan.events) io.stdout(`slot ${String(e.slot).padStart(4)}  ${JSON.stringify(e.action)}\n`);
    io.stdout(`sim ${scenario.name}: ${plan.events.length} events, ${plan.intervals.length} fault intervals (seed ${seed})\n`);
    return 0;
  }
  const outDir = v.out ?? mkdtempSync(join(tmpdir(), `cairn-sim-${scenario.name}-`));
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let report;
  try {
    report = await runSimulation({ scenario, seed, outDir, basePort, logLevel: v["log-level"], log: (l) => io.stdout(l), live: (l) => io.stderr(l), signal: controller.signal });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  writeReport(outDir, report);
  for (const x of report.invariants) io.stdout(`${x.ok ? "PASS" : "FAIL"}  ${x.name}: ${x.detail}\n`);
  for (const p of report.slashable.slice(0, 20)) io.stdout(`SLASHABLE  ${p.offence} by ${p.validator}: ${p.a} / ${p.b}\n`);
  if (report.slashable.length > 20) io.stdout(`SLASHABLE  ... ${report.slashable.length - 20} more in report.json\n`);
  io.stdout(`report: ${join(outDir, "report.html")}\n`);
  const met = report.invariants.filter((x) => x.ok).length;
  const failed = report.invariants.length - met;
  io.stdout(`sim ${scenario.name}: ${met} invariants met, ${failed} failed, slashable ${report.slashable.length}\n`);
  return failed === 0 ? 0 : 1;
}

export const command: Command = { help, run };
