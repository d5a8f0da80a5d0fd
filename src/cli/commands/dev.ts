// cairn dev: a local chain in one command. Interop genesis, a beacon node, and the validator client talking to it
// over the REST API (same process, real HTTP), on the real wall clock; one status line per epoch.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBeaconConfig, type BeaconConfig } from "../../config/index.js";
import { interopSecretKeyBytes } from "../../crypto/interop.js";
import { DevEth1Chain } from "../../eth1/devChain.js";
import { BeaconNode, type BeaconNodeOptions, type NodeStatus } from "../../node/node.js";
import { createInteropGenesisState, interopDepositData } from "../../state-transition/index.js";
import { fromHex } from "../../util/bytes.js";
import { computeEpochAtSlot } from "../../state-transition/util/epoch.js";
import { createLogger } from "../../util/logger.js";
import { createValidatorMetrics } from "../../validator/metrics.js";
import { SlashingProtection } from "../../validator/slashingProtection/index.js";
import { Validator } from "../../validator/validator.js";
import { CliError, EXIT_ERROR, EXIT_OK, expectedFinalizedEpoch, loadBeaconConfig, type Command, type Io } from "../common.js";
import { flag, logLevel, metricsPort, optionsHelp, parseOptions, restPort, str, uint } from "../options.js";
import { waitForShutdownSignal } from "./beacon.js";

const NAME = "dev";

const OPTIONS = {
  validators: uint("<N>", "validators in the genesis state (default {default})", { default: 64 }),
  config: str("<C>", "{default} (default), mainnet, or a config YAML file", { default: "minimal" }),
  "seconds-per-slot": uint("<S>", "override the config's SECONDS_PER_SLOT (default 2 for minimal)"),
  "until-epoch": uint(
    "<N>",
    "stop at the start of epoch N; exit 0 if epoch N-2 (or later) is finalized, else 1\n(N below 4 only checks that the chain ran: nothing can be finalized before epoch 4)",
  ),
  "genesis-time": uint("<T>", "Unix seconds (default: a few seconds from now)"),
  datadir: str("<DIR>", "where the node and validator keep their data (default: a new temporary directory)"),
  "rest.port": restPort("REST API port on 127.0.0.1 (default {default}; 0 picks a free port)"),
  "metrics.port": metricsPort("Prometheus metrics port on 127.0.0.1 (default {default}; 0 picks a free port)"),
  "log-level": logLevel("warn"),
  eth1: flag("genesis from a local eth1 chain: starts anvil, deploys a deposit contract, sends the\ngenesis deposits, follows later ones (cairn deposit); anvil stops with the chain"),
  "eth1.block-time": uint("<S>", "seconds between eth1 blocks with --eth1 (default {default})", { default: 1 }),
};

const help = `Usage: cairn dev [--validators <N>] [--config <minimal|mainnet|FILE.yaml>] [--seconds-per-slot <S>]
                 [--until-epoch <N>] [--genesis-time <T>] [--datadir <DIR>]
                 [--rest.port <P>] [--metrics.port <P>] [--log-level <L>] [--eth1 [--eth1.block-time <S>]]

Starts a local chain: an interop genesis with N validators (the deterministic interop keys), a beacon
node, and a validator client for all N keys that talks to the node through its REST API. Runs on the
wall clock and prints one line per epoch (head slot, justified and finalized epochs, participation).
With --eth1 the genesis comes from deposits on a local eth1 chain instead, and later deposits are
voted in and included in blocks as on a real network.

${optionsHelp(OPTIONS)}`;

function statusLine(config: BeaconConfig, s: NodeStatus): string {
  const epoch = computeEpochAtSlot(config, Math.max(0, s.clockSlot));
  const p = s.previousEpochParticipation;
  return (
    `epoch ${String(epoch).padStart(3)}  slot ${String(s.clockSlot).padStart(5)}  head ${String(s.headSlot).padStart(5)}  ` +
    `justified ${String(s.justifiedEpoch).padStart(3)}  finalized ${String(s.finalizedEpoch).padStart(3)}  ` +
    `participation ${p === null ? "  -" : `${Math.round(p * 100)}%`.padStart(4)}\n`
  );
}

async function run(args: string[], io: Io): Promise<number> {
  const { values: v } = parseOptions(NAME, OPTIONS, args);
  const base = loadBeaconConfig(v.config, (m) => io.stderr(`warning: ${m}\n`));
  const validators = v.validators;
  if (validators < base.SLOTS_PER_EPOCH) throw new CliError(`--validators: at least SLOTS_PER_EPOCH (${base.SLOTS_PER_EPOCH}) are needed`);
  let secondsPerSlot = base.CONFIG_NAME === "minimal" ? 2 : base.SECONDS_PER_SLOT;
  if (v["seconds-per-slot"] !== undefined) secondsPerSlot = v["seconds-per-slot"];
  if (secondsPerSlot < 1) throw new CliError("--seconds-per-slot: at least 1");
  let config = createBeaconConfig({ ...base, SECONDS_PER_SLOT: secondsPerSlot });
  const untilEpoch = v["until-epoch"] ?? null;
  const datadir = v.datadir ?? mkdtempSync(join(tmpdir(), "cairn-dev-"));
  mkdirSync(datadir, { recursive: true });
  const logger = createLogger({ level: v["log-level"] });

  let genesisState: Uint8Array | undefined;
  let eth1: BeaconNodeOptions["eth1"] = null;
  let eth1Chain: DevEth1Chain | null = null;
  if (v.eth1) {
    if (v["genesis-time"] !== undefined) throw new CliError("--genesis-time does not apply with --eth1 (genesis follows the eth1 block of the last deposit)");
    const blockTime = v["eth1.block-time"];
    if (blockTime < 1) throw new CliError("--eth1.block-time: at least 1");
    try {
      eth1Chain = await DevEth1Chain.start({ chainId: config.DEPOSIT_CHAIN_ID, blockTime });
      const [from] = await eth1Chain.accounts();
      const contract = await eth1Chain.deployDepositContract(from);
      // genesis as soon as the deposits are ETH1_FOLLOW_DISTANCE blocks deep, a little later than that
      config = createBeaconConfig({
        ...config,
        SECONDS_PER_ETH1_BLOCK: blockTime,
        MIN_GENESIS_TIME: 0,
        MIN_GENESIS_ACTIVE_VALIDATOR_COUNT: validators,
        GENESIS_DELAY: config.ETH1_FOLLOW_DISTANCE * blockTime + 15,
        DEPOSIT_CONTRACT_ADDRESS: fromHex(contract.address),
      });
      const deposits = Array.from({ length: validators }, (_, i) => {
        const data = interopDepositData(config, i);
        return { data, root: config.types.DepositData.hashTreeRoot(data) };
      });
      await eth1Chain.deposit(from, contract.address, deposits);
      eth1 = { endpoints: [eth1Chain.url], depositContract: contract.address, depositBlock: contract.blockNumber };
      io.stdout(`eth1: ${eth1Chain.url} (chain id ${config.DEPOSIT_CHAIN_ID}), deposit contract ${contract.address} at block ${contract.blockNumber}, ${validators} genesis deposits sent\n`);
    } catch (e) {
      await eth1Chain?.stop();
      throw new CliError(`--eth1: ${(e as Error).message}`, { cause: e });
    }
    io.stdout(
      `cairn dev: ${validators} validators, ${config.CONFIG_NAME} config, ${secondsPerSlot} s slots, genesis from eth1 once the deposits are ` +
        `${config.ETH1_FOLLOW_DISTANCE} blocks deep (--log-level info shows the progress), datadir ${datadir}\n`,
    );
  } else {
    const genesisTime = v["genesis-time"] ?? Math.floor(Date.now() / 1000) + 3;
    genesisState = createInteropGenesisState(config, validators, genesisTime).serialize();
    io.stdout(
      `cairn dev: ${validators} validators, ${config.CONFIG_NAME} config, ${secondsPerSlot} s slots, genesis ${new Date(genesisTime * 1000).toISOString()}, datadir ${datadir}\n`,
    );
  }
  const shutdown = waitForShutdownSignal(logger);
  let node: BeaconNode;
  try {
    node = await BeaconNode.start({
      config,
      datadir: join(datadir, "beacon"),
      genesisState,
      eth1,
      signal: shutdown.signal,
      rest: { address: "127.0.0.1", port: v["rest.port"] },
      metrics: { address: "127.0.0.1", port: v["metrics.port"] },
      logger,
    });
  } catch (e) {
    shutdown.dispose();
    await eth1Chain?.stop();
    throw new CliError((e as Error).message, { cause: e });
  }
  io.stdout(`REST API http://127.0.0.1:${node.restPort}  metrics http://127.0.0.1:${node.metricsPort}/metrics\n`);

  let validator: Validator | null = null;
  const stop = new AbortController();
  let result = EXIT_OK;
  try {
    validator = await Validator.create({
      config,
      beaconNodes: [`http://127.0.0.1:${node.restPort}`],
      secretKeys: Array.from({ length: validators }, (_, i) => interopSecretKeyBytes(i)),
      openSlashingProtection: (gvr) => SlashingProtection.open(join(datadir, "validator", "slashing-protection"), { genesisValidatorsRoot: gvr }),
      logger: logger.child("validator"),
      metrics: createValidatorMetrics(node.metrics.registry),
      signal: stop.signal,
    });
    validator.start();

    // one line at the start of every epoch (a third into its first slot, once that slot's block is in)
    const statusLoop = (async () => {
      const clock = node.clock;
      let slot = clock.currentSlot();
      let printed = -1;
      while (!stop.signal.aborted) {
        slot = await clock.waitForSlotChange(slot, stop.signal);
        if (stop.signal.aborted) return;
        const epoch = computeEpochAtSlot(config, Math.max(0, slot));
        if (slot < 0 || slot % config.SLOTS_PER_EPOCH !== 0 || epoch <= printed) continue;
        // a third into the epoch's first slot: its block (if any) is in
        if (!(await clock.waitForSlotFraction(slot, 1 / 3, stop.signal))) continue;
        printed = epoch;
        const s = node.status();
        io.stdout(statusLine(config, s));
        if (untilEpoch !== null && epoch >= untilEpoch) {
          const need = expectedFinalizedEpoch(untilEpoch);
          if (s.finalizedEpoch >= need) {
            io.stdout(`done: finalized epoch ${s.finalizedEpoch} at epoch ${epoch}\n`);
          } else {
            io.stderr(`cairn dev: error: finalized epoch ${s.finalizedEpoch} at epoch ${epoch}, expected at least ${need}\n`);
            result = 1;
          }
          return;
        }
      }
    })();
    await Promise.race([statusLoop, shutdown.promise]);
  } finally {
    stop.abort();
    shutdown.dispose();
    await validator?.close();
    await node.close();
    await eth1Chain?.stop();
  }
  return result === EXIT_OK ? EXIT_OK : result === 1 ? 1 : EXIT_ERROR;
}

export const command: Command = { help, run };
