// cairn beacon: run a beacon node (database, chain, wall clock, libp2p networking with sync, REST API, metrics)
// until SIGINT/SIGTERM. Parses the flags, loads the network config and genesis, and hands the rest to BeaconNode.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BeaconConfig } from "../../config/index.js";
import { BeaconNode, type BeaconNodeOptions } from "../../node/node.js";
import { loadOrCreateNetworkKey } from "../../node/networkKey.js";
import { createInteropGenesisState } from "../../state-transition/index.js";
import { createLogger, type Logger } from "../../util/logger.js";
import { CliError, EXIT_OK, loadBeaconConfig, parseUintArg, readInputFile, type Command, type Io } from "../common.js";
import { flag, list, logLevel, metricsPort, optionsHelp, parseOptions, port, restPort, str, uint } from "../options.js";

const NAME = "beacon";

const NETWORK = "Network (one of)";
const GENESIS = "Genesis (when the datadir is empty)";
const NETWORKING = "Networking (libp2p: TCP, noise, yamux, gossipsub; discv5)";

/**
 * cairn beacon's options: the help's option list and the parsed values both come from here, so a new flag is one
 * line (plus the usage summary above the list, if it belongs there).
 */
export const BEACON_OPTIONS = {
  network: str("<name>", "a built-in preset: minimal or mainnet (spec v0.12.3)", { group: NETWORK }),
  config: str("<FILE.yaml>", "a config file (flat spec keys, or PRESET_BASE with overrides)", { group: NETWORK }),
  "testnet-dir": str("<DIR>", "a directory holding config.yaml and genesis.ssz (the convention other clients use)", { group: NETWORK }),
  "genesis-state": str("<FILE>", "the genesis state, SSZ", { group: GENESIS }),
  "interop-validators": str("<N>", "build the interop genesis (deterministic keys) with N validators instead", { group: GENESIS }),
  "genesis-time": str("<T>", "its genesis time, Unix seconds (default: now, rounded up to the next 10 s)", { group: GENESIS }),
  datadir: str("<DIR>", "where the database lives (created when missing)"),
  "rest.address": str("<A>", "REST API address (default {default})", { default: "127.0.0.1" }),
  "rest.port": restPort(),
  "no-rest": flag("no REST API"),
  metrics: flag("serve Prometheus metrics (implied by --metrics.port)"),
  "metrics.address": str("<A>", "metrics address (default {default})", { default: "127.0.0.1" }),
  "metrics.port": metricsPort("metrics port (default {default})"),
  "log-level": logLevel("info"),
  "p2p-host": str("<A>", "address to listen on and advertise (default {default})", { group: NETWORKING, default: "127.0.0.1" }),
  "p2p-port": port("<P>", "libp2p TCP port (default {default})", { group: NETWORKING, default: 9000 }),
  "discovery-port": port("<P>", "discv5 UDP port (default: the p2p port)", { group: NETWORKING }),
  "no-discovery": flag("no discv5: static peers only", { group: NETWORKING }),
  bootnodes: list("<ENR,...>", "discv5 boot nodes (enr:... strings)", { group: NETWORKING }),
  peers: list("<MULTIADDR,...>", "static peers (/ip4/.../tcp/.../p2p/<peer id>), kept connected", { group: NETWORKING }),
  "target-peers": uint("<N>", "peers to keep (default 25)", { group: NETWORKING }),
  "no-network": flag("no networking at all (a node fed only through the REST API)", { group: NETWORKING }),
};

const help = `Usage: cairn beacon --datadir <DIR> (--network <minimal|mainnet> | --config <FILE.yaml> | --testnet-dir <DIR>)
                    [--genesis-state <FILE.ssz>] [--interop-validators <N> --genesis-time <T>]
                    [--rest.address <A>] [--rest.port <P>] [--no-rest]
                    [--metrics] [--metrics.address <A>] [--metrics.port <P>] [--log-level <L>]
                    [--p2p-host <A>] [--p2p-port <P>] [--discovery-port <P> | --no-discovery]
                    [--bootnodes <ENR,...>] [--peers <MULTIADDR,...>] [--target-peers <N>] [--no-network]

Runs a beacon node: its database in --datadir, the chain driven by the wall clock, the standard Beacon
Node REST API, and Prometheus metrics. Stops cleanly on SIGINT or SIGTERM. A datadir that already holds
a chain resumes from it; an empty one needs a genesis state.

${optionsHelp(BEACON_OPTIONS)}The node's identity key is <datadir>/network-key (created on first start).
`;

export interface NetworkArgs {
  network?: string;
  config?: string;
  "testnet-dir"?: string;
  "genesis-state"?: string;
  "interop-validators"?: string;
  "genesis-time"?: string;
}

/** The config and, when one was named, the genesis state bytes. */
export function loadNetwork(v: NetworkArgs, warn: (m: string) => void): { config: BeaconConfig; genesis: Uint8Array | null } {
  const chosen = [v.network, v.config, v["testnet-dir"]].filter((x) => x !== undefined);
  if (chosen.length !== 1) throw new CliError("give exactly one of --network, --config, --testnet-dir");
  let config: BeaconConfig;
  let genesisPath = v["genesis-state"];
  if (v["testnet-dir"] !== undefined) {
    const dir = v["testnet-dir"];
    const cfg = join(dir, "config.yaml");
    if (!existsSync(cfg)) throw new CliError(`--testnet-dir ${dir}: no config.yaml in it`);
    config = loadBeaconConfig(cfg, warn);
    if (genesisPath === undefined && existsSync(join(dir, "genesis.ssz"))) genesisPath = join(dir, "genesis.ssz");
  } else if (v.network !== undefined) {
    if (v.network !== "minimal" && v.network !== "mainnet") throw new CliError(`--network: expected minimal or mainnet, got ${JSON.stringify(v.network)}`);
    config = loadBeaconConfig(v.network, warn);
  } else {
    config = loadBeaconConfig(v.config!, warn);
  }
  if (genesisPath !== undefined && v["interop-validators"] !== undefined) {
    throw new CliError("give --genesis-state or --interop-validators, not both");
  }
  if (genesisPath !== undefined) {
    const bytes = readInputFile(genesisPath, `genesis state ${genesisPath}`);
    try {
      config.types.BeaconState.deserializeToViewDU(bytes);
    } catch (e) {
      throw new CliError(`genesis state ${genesisPath} is not a BeaconState for this config: ${(e as Error).message}`);
    }
    return { config, genesis: bytes };
  }
  if (v["interop-validators"] !== undefined) {
    const n = parseUintArg("--interop-validators", v["interop-validators"]);
    if (n < config.SLOTS_PER_EPOCH) throw new CliError(`--interop-validators: at least SLOTS_PER_EPOCH (${config.SLOTS_PER_EPOCH}) validators are needed`);
    const time = v["genesis-time"] !== undefined ? parseUintArg("--genesis-time", v["genesis-time"]) : Math.ceil(Date.now() / 10_000) * 10;
    return { config, genesis: createInteropGenesisState(config, n, time).serialize() };
  }
  if (v["genesis-time"] !== undefined) throw new CliError("--genesis-time needs --interop-validators");
  return { config, genesis: null };
}

/** Resolves on the first SIGINT/SIGTERM (and removes its handlers). */
export function waitForShutdownSignal(logger: Logger): { promise: Promise<string>; dispose(): void } {
  let dispose = () => {};
  const promise = new Promise<string>((resolve) => {
    const onSignal = (sig: string) => {
      logger.info("shutting down", { signal: sig });
      dispose();
      resolve(sig);
    };
    const onInt = () => onSignal("SIGINT");
    const onTerm = () => onSignal("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    dispose = () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    };
  });
  return { promise, dispose: () => dispose() };
}

async function run(args: string[], io: Io): Promise<number> {
  const { values: v, given } = parseOptions(NAME, BEACON_OPTIONS, args);
  if (v.datadir === undefined) throw new CliError("--datadir is required (see cairn beacon --help)");
  const logger = createLogger({ level: v["log-level"] });
  const { config, genesis } = loadNetwork(v, (m) => io.stderr(`warning: ${m}\n`));
  const metricsOn = v.metrics || given("metrics.port");
  let network: BeaconNodeOptions["network"] = null;
  if (!v["no-network"]) {
    const p2pPort = v["p2p-port"];
    network = {
      privateKey: await loadOrCreateNetworkKey(v.datadir),
      host: v["p2p-host"],
      p2pPort,
      discoveryPort: v["no-discovery"] ? null : (v["discovery-port"] ?? p2pPort),
      bootnodes: v.bootnodes,
      staticPeers: v.peers,
      targetPeers: v["target-peers"],
    };
  }
  const shutdown = waitForShutdownSignal(logger);
  let node: BeaconNode;
  try {
    node = await BeaconNode.start({
      config,
      datadir: v.datadir,
      genesisState: genesis ?? undefined,
      rest: v["no-rest"] ? null : { address: v["rest.address"], port: v["rest.port"] },
      metrics: metricsOn ? { address: v["metrics.address"], port: v["metrics.port"] } : null,
      network,
      logger,
    });
  } catch (e) {
    shutdown.dispose();
    throw new CliError((e as Error).message, { cause: e });
  }
  await shutdown.promise;
  await node.close();
  logger.info("stopped");
  return EXIT_OK;
}

export const command: Command = { help, run };
