// cairn harness: generate and import a valid chain without a wall clock; print one JSON line of results.
import { runHarness, measureRestart } from "../../chain/harness/harness.js";
import { CliError, EXIT_OK, loadBeaconConfig, parseCommandArgs, parseUintArg, type Command, type Io } from "../common.js";

const NAME = "harness";

const help = `Usage: cairn harness --config <minimal|mainnet|FILE.yaml> --validators <N> --slots <N> --datadir <DIR>
                      [--participation <0..1>] [--fork-rate <0..1>] [--skip-rate <0..1>]
                      [--restart-every <N>] [--no-signatures] [--seed <N>] [--check-head-every <N>] [--quiet]

Builds an interop genesis with N validators, then for every slot produces attestations from the
validators that take part and a block, and imports it into a real chain (LevelDB in --datadir, fork
choice, state regeneration, BLS worker pool), as fast as it can. At the end it restarts on the datadir
and prints one JSON line:
  {headSlot, finalizedEpoch, blocksImported, importMsMedian, importMsP99,
   regen: {requests, shared, blocksReplayed}, forkChoiceNodes, peakRssMb, restartMs, restartBlocksReplayed, ...}

Options:
  --participation <p>      share of validators attesting each slot (default 1.0)
  --fork-rate <p>          chance that a block builds on the head's parent, making a fork (default 0)
  --skip-rate <p>          chance that a slot has no block (default 0)
  --restart-every <N>      close and reopen the chain from its database every N slots
  --no-signatures          neither make nor check signatures (for mainnet-scale runs)
  --seed <N>               PRNG seed (default 1)
  --check-head-every <N>   compare the head with the spec's get_head every N slots (default 0: never)
  --quiet                  no per-epoch progress lines on stderr
`;

function parseRate(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new CliError(`${flag}: expected a number from 0 to 1, got ${JSON.stringify(v)}`);
  return n;
}

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(NAME, {
    args,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: "string" },
      validators: { type: "string" },
      slots: { type: "string" },
      datadir: { type: "string" },
      participation: { type: "string" },
      "fork-rate": { type: "string" },
      "skip-rate": { type: "string" },
      "restart-every": { type: "string" },
      "no-signatures": { type: "boolean" },
      seed: { type: "string" },
      "check-head-every": { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  for (const k of ["config", "validators", "slots", "datadir"] as const) {
    if (values[k] === undefined) throw new CliError(`missing --${k} (see cairn ${NAME} --help)`);
  }
  const config = loadBeaconConfig(values.config as string, (m) => io.stderr(`warning: ${m}\n`));
  const validators = parseUintArg("--validators", values.validators as string);
  if (validators < config.SLOTS_PER_EPOCH) throw new CliError(`--validators must be at least SLOTS_PER_EPOCH (${config.SLOTS_PER_EPOCH})`);
  const datadir = values.datadir as string;
  const result = await runHarness(config, {
    validators,
    slots: parseUintArg("--slots", values.slots as string),
    datadir,
    participation: parseRate("--participation", values.participation, 1),
    forkRate: parseRate("--fork-rate", values["fork-rate"], 0),
    skipRate: parseRate("--skip-rate", values["skip-rate"], 0),
    restartEvery: values["restart-every"] === undefined ? 0 : parseUintArg("--restart-every", values["restart-every"]),
    signatures: values["no-signatures"] !== true,
    seed: values.seed === undefined ? 1 : parseUintArg("--seed", values.seed),
    checkHeadEvery: values["check-head-every"] === undefined ? 0 : parseUintArg("--check-head-every", values["check-head-every"]),
    onProgress: values.quiet ? undefined : (line) => io.stderr(`${line}\n`),
  });
  const restart = await measureRestart(config, datadir);
  io.stdout(
    JSON.stringify({
      ...result,
      restartMs: restart.restartMs,
      restartBlocksReplayed: restart.restartBlocksReplayed,
      restartHeadSlot: restart.headSlot,
      midRunRestartMs: result.restartMs,
      midRunRestartBlocksReplayed: result.restartBlocksReplayed,
    }) + "\n",
  );
  return EXIT_OK;
}

export const command: Command = { help, run };
