// cairn harness: generate and import a valid chain without a wall clock; print one JSON line of results.
import { closeSync, openSync, writeSync } from "node:fs";
import { runHarness, measureRestart, parseParticipationTimeline, type ParticipationStep } from "../../chain/harness/harness.js";
import { CliError, EXIT_OK, loadBeaconConfig, type Command, type Io } from "../common.js";
import { custom, flag, optionsHelp, parseOptions, str, uint, type OptionSpec } from "../options.js";

const NAME = "harness";

/** A share from 0 to 1 (default `dflt`). */
function rate(help: string, dflt: number): OptionSpec<number> {
  const parse = (v: string | undefined, flag: string): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new CliError(`${flag}: expected a number from 0 to 1, got ${JSON.stringify(v)}`);
    return n;
  };
  return { ...custom("<p>", help, parse), default: dflt };
}

const timeline = custom("<T>", "participation by slot: SLOT:SHARE,... (0:0.55,32000:1 = 0.55 from slot 0, 1 from\nslot 32000); instead of --participation", (v: string | undefined, flag: string): ParticipationStep[] | undefined => {
  if (v === undefined) return undefined;
  try {
    return parseParticipationTimeline(v);
  } catch (e) {
    throw new CliError(`${flag}: ${(e as Error).message}`);
  }
});

const OPTIONS = {
  config: str("<C>", "minimal, mainnet, or a config YAML file", { group: "Required" }),
  validators: uint("<N>", "validators in the interop genesis (at least SLOTS_PER_EPOCH)", { group: "Required" }),
  slots: uint("<N>", "slots to run", { group: "Required" }),
  datadir: str("<DIR>", "where the chain's database goes", { group: "Required" }),
  participation: rate("share of validators attesting each slot (default {default})", 1),
  "participation-timeline": timeline,
  "fork-rate": rate("chance that a block builds on the head's parent, making a fork (default {default})", 0),
  "skip-rate": rate("chance that a slot has no block (default {default})", 0),
  "restart-every": uint("<N>", "close and reopen the chain from its database every N slots", { default: 0 }),
  "no-signatures": flag("neither make nor check signatures (for mainnet-scale runs)"),
  seed: uint("<N>", "PRNG seed (default {default})", { default: 1 }),
  "check-head-every": uint("<N>", "compare the head with the spec's get_head every N slots (default {default}: never)", { default: 0 }),
  series: str("<FILE>", "write one JSON line per epoch to FILE (memory, import times, checkpoints, store sizes)"),
  quiet: flag("no per-epoch progress lines on stderr"),
  help: flag("", { short: "h", hidden: true }),
};

const help = `Usage: cairn harness --config <minimal|mainnet|FILE.yaml> --validators <N> --slots <N> --datadir <DIR>
                      [--participation <0..1> | --participation-timeline <SLOT:SHARE,...>]
                      [--fork-rate <0..1>] [--skip-rate <0..1>] [--restart-every <N>] [--no-signatures]
                      [--seed <N>] [--check-head-every <N>] [--series <FILE>] [--quiet]

Builds an interop genesis with N validators, then for every slot produces attestations from the
validators that take part and a block, and imports it into a real chain (LevelDB in --datadir, fork
choice, state regeneration, BLS worker pool), as fast as it can. At the end it restarts on the datadir
and prints one JSON line:
  {headSlot, finalizedEpoch, blocksImported, importMsMedian, importMsP99,
   regen: {requests, shared, blocksReplayed}, forkChoiceNodes, peakRssMb, restartMs, restartCpuMs, restartBlocksReplayed,
   resumed, longestArchive, whileArchiving: {slots, imports, importMsMax, loopStallMsMax}, ...}
With --series, one JSON line per epoch goes to FILE as the run goes (RSS, heap, import ms median/p99/max and
the longest event-loop stall of that epoch, head/justified/finalized epochs, fork-choice nodes, hot states,
regen counters, archive runs).
On a datadir that holds a chain already, it continues that chain (a long run in steps); "resumed" says how
long opening it took (a restart), in wall and CPU ms.

${optionsHelp(OPTIONS)}`;

async function run(args: string[], io: Io): Promise<number> {
  const { values, given } = parseOptions(NAME, OPTIONS, args);
  for (const k of ["config", "validators", "slots", "datadir"] as const) {
    if (!given(k)) throw new CliError(`missing --${k} (see cairn ${NAME} --help)`);
  }
  const config = loadBeaconConfig(values.config!, (m) => io.stderr(`warning: ${m}\n`));
  const validators = values.validators!;
  if (validators < config.SLOTS_PER_EPOCH) throw new CliError(`--validators must be at least SLOTS_PER_EPOCH (${config.SLOTS_PER_EPOCH})`);
  const datadir = values.datadir!;
  const participationTimeline = values["participation-timeline"];
  if (participationTimeline && given("participation")) throw new CliError("--participation and --participation-timeline exclude each other");
  // written line by line (not buffered): a long run that is stopped still leaves its series
  const series = values.series === undefined ? undefined : openSync(values.series, "w");
  try {
    const result = await runHarness(config, {
      validators,
      slots: values.slots!,
      datadir,
      participation: values.participation,
      participationTimeline,
      forkRate: values["fork-rate"],
      skipRate: values["skip-rate"],
      restartEvery: values["restart-every"],
      signatures: !values["no-signatures"],
      seed: values.seed,
      checkHeadEvery: values["check-head-every"],
      onProgress: values.quiet ? undefined : (line) => io.stderr(`${line}\n`),
      onEpoch: series === undefined ? undefined : (row) => writeSync(series, JSON.stringify(row) + "\n"),
    });
    const restart = await measureRestart(config, datadir);
    io.stdout(
      JSON.stringify({
        ...result,
        restartMs: restart.restartMs,
        restartCpuMs: restart.restartCpuMs,
        restartBlocksReplayed: restart.restartBlocksReplayed,
        restartHeadSlot: restart.headSlot,
        midRunRestartMs: result.restartMs,
        midRunRestartBlocksReplayed: result.restartBlocksReplayed,
      }) + "\n",
    );
    return EXIT_OK;
  } finally {
    if (series !== undefined) closeSync(series);
  }
}

export const command: Command = { help, run };
