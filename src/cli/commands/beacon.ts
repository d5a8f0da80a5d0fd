// cairn beacon: run a beacon node (database, chain, wall clock, libp2p networking with sync, REST API, metrics)
// until SIGINT/SIGTERM. Parses the flags, loads the network config and genesis, and hands the rest to BeaconNode.
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { BeaconConfig } from "../../config/index.js";
import { BUNDLED_NETWORKS, genesisMismatch, isBundledNetwork } from "../../config/networks.js";
import { loadNetwork as loadBundledNetwork, type BundledNetwork } from "../../network/networks.js";
import type { CheckpointSource } from "../../node/checkpointSync.js";
import { BeaconNode, type BeaconNodeOptions } from "../../node/node.js";
import { loadOrCreateNetworkKey } from "../../node/networkKey.js";
import { createInteropGenesisState } from "../../state-transition/index.js";
import { toHex } from "../../util/bytes.js";
import { createLogger, type Logger } from "../../util/logger.js";
import { createProcessClock, hasClockOptions, type ProcessClock } from "../../sim/processClock.js";
import { parseSources, SIM_CLOCK_OPTIONS, SIMULATION, simClockOptions } from "../simClock.js";
import { CliError, defaultDatadir, EXIT_OK, loadBeaconConfig, notAStateMessage, parseUintArg, readInputFile, type Command, type Io } from "../common.js";
import { custom, flag, list, logLevel, metricsPort, optionsHelp, parseOptions, port, restPort, str, uint } from "../options.js";

const NAME = "beacon";

const NETWORK = "Network (one of)";
const GENESIS = "Genesis (when the datadir is empty)";
const CHECKPOINT = "Checkpoint sync (when the datadir is empty; instead of a genesis state)";
const ETH1 = "Eth1 (deposits, eth1 votes, genesis from the deposit contract)";
const NETWORKING = "Networking (libp2p: TCP, noise, mplex or yamux, gossipsub; discv5)";

/**
 * cairn beacon's options: the help's option list and the parsed values both come from here, so a new flag is one
 * line (plus the usage summary above the list, if it belongs there).
 */
export const BEACON_OPTIONS = {
  network: str("<name>", "mainnet, pyrmont, medalla, spadina, zinken (bundled: networks/), or minimal", { group: NETWORK }),
  config: str("<FILE.yaml>", "a config file (flat spec keys, or PRESET_BASE with overrides)", { group: NETWORK }),
  "testnet-dir": str("<DIR>", "a directory holding config.yaml and genesis.ssz (the convention other clients use)", { group: NETWORK }),
  "genesis-state": str("<FILE>", "the genesis state, SSZ (checked against a bundled network's published root)", { group: GENESIS }),
  "interop-validators": str("<N>", "build the interop genesis (deterministic keys) with N validators instead", { group: GENESIS }),
  "genesis-time": str("<T>", "its genesis time, Unix seconds (default: now, rounded up to the next 10 s)", { group: GENESIS }),
  "checkpoint-sync-url": list("<URL>", "trusted beacon node API(s), comma-separated: start from their\nfinalized state and block (two or more must agree)", { group: CHECKPOINT }),
  "checkpoint-state": str("<FILE>", "or a finalized state, SSZ (with --checkpoint-block)", { group: CHECKPOINT }),
  "checkpoint-block": str("<FILE>", "its block, SSZ (the state's latest block)", { group: CHECKPOINT }),
  force: flag("accept a checkpoint older than the weak subjectivity period", { group: CHECKPOINT }),
  "eth1.endpoints": list("<URL,...>", "eth1 JSON-RPC endpoints, tried in order (http, DEPOSIT_CHAIN_ID checked); with an\nempty datadir and no genesis state, waits for genesis from the deposit contract", { group: ETH1 }),
  "deposit-contract": str("<ADDR>", "the deposit contract (default: the network's DEPOSIT_CONTRACT_ADDRESS)", { group: ETH1 }),
  "deposit-block": uint("<N>", "its deployment block: no deposit log is older (default: the network's, else 0)", { group: ETH1 }),
  datadir: str("<DIR>", "where the database lives (created when missing; default\n$XDG_DATA_HOME/cairn/<network>/beacon, i.e. ~/.local/share/cairn/<network>/beacon)"),
  "rest.address": str("<A>", "REST API address (default {default})", { default: "127.0.0.1" }),
  "rest.port": restPort(),
  "no-rest": flag("no REST API"),
  metrics: flag("serve Prometheus metrics (implied by --metrics.port)"),
  "metrics.address": str("<A>", "metrics address (default {default})", { default: "127.0.0.1" }),
  "metrics.port": metricsPort("metrics port (default {default})"),
  "log-level": logLevel("info"),
  // all interfaces, as other clients do; `cairn testnet` passes 127.0.0.1
  "p2p-host": str("<A>", "address to listen on (default {default}: all interfaces)", { group: NETWORKING, default: "0.0.0.0" }),
  "enr.ip": str("<A>", "address to advertise in the ENR (default: --p2p-host, or learned from peers)", { group: NETWORKING }),
  "enr.tcp-port": port("<P>", "TCP port to advertise (default: the p2p port)", { group: NETWORKING }),
  "enr.udp-port": port("<P>", "UDP port to advertise (default: the discovery port)", { group: NETWORKING }),
  "p2p-port": port("<P>", "libp2p TCP port (default {default})", { group: NETWORKING, default: 9000 }),
  "discovery-port": port("<P>", "discv5 UDP port (default: the p2p port)", { group: NETWORKING }),
  "no-discovery": flag("no discv5: static peers only", { group: NETWORKING }),
  bootnodes: list("<ENR,...>", "discv5 boot nodes (enr:... strings; default: the bundled network's)", { group: NETWORKING }),
  peers: list("<MULTIADDR,...>", "static peers (/ip4/.../tcp/.../p2p/<peer id>), kept connected", { group: NETWORKING }),
  "target-peers": uint("<N>", "peers to keep (default 25)", { group: NETWORKING }),
  "no-network": flag("no networking at all (a node fed only through the REST API)", { group: NETWORKING }),
  ...SIM_CLOCK_OPTIONS,
  // the roughtime bug, for `cairn sim` only: never use it on a real network
  "unsafe-time-follow-mean": custom("<HOST:PORT,...>", "UNSAFE: move the clock to the MEAN of these SNTP servers\n(the roughtime bug of Medalla)", parseSources, { group: SIMULATION }),
};

const help = `Usage: cairn beacon (--network <NAME> | --config <FILE.yaml> | --testnet-dir <DIR>) [--datadir <DIR>]
                    [--genesis-state <FILE.ssz>] [--interop-validators <N> --genesis-time <T>]
                    [--checkpoint-sync-url <URL>[,<URL>] | --checkpoint-state <FILE> --checkpoint-block <FILE>]
                    [--force]
                    [--rest.address <A>] [--rest.port <P>] [--no-rest]
                    [--metrics] [--metrics.address <A>] [--metrics.port <P>] [--log-level <L>]
                    [--p2p-host <A>] [--p2p-port <P>] [--discovery-port <P> | --no-discovery]
                    [--enr.ip <A>] [--enr.tcp-port <P>] [--enr.udp-port <P>]
                    [--bootnodes <ENR,...>] [--peers <MULTIADDR,...>] [--target-peers <N>] [--no-network]
                    [--eth1.endpoints <URL,...> [--deposit-contract <ADDR>] [--deposit-block <N>]]

Runs a beacon node: its database in --datadir, the chain driven by the wall clock, the standard Beacon
Node REST API, and Prometheus metrics. Stops cleanly on SIGINT or SIGTERM. A datadir that already holds
a chain resumes from it; an empty one needs a genesis state, or a checkpoint to start from (checkpoint sync:
the chain starts at a trusted finalized state, and the history before it is backfilled from peers).

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

/** The config, the genesis state bytes when one was named (or shipped), and the network's boot nodes. */
export function loadNetwork(
  v: NetworkArgs,
  warn: (m: string) => void,
  info: (m: string) => void = warn,
): { config: BeaconConfig; genesis: Uint8Array | null; bootnodes: string[]; network: BundledNetwork | null; depositBlock?: number } {
  const chosen = [v.network, v.config, v["testnet-dir"]].filter((x) => x !== undefined);
  if (chosen.length !== 1) throw new CliError("give exactly one of --network, --config, --testnet-dir");
  let config: BeaconConfig;
  let genesisPath = v["genesis-state"];
  let bundled: BundledNetwork | null = null;
  if (v["testnet-dir"] !== undefined) {
    const dir = v["testnet-dir"];
    const cfg = join(dir, "config.yaml");
    if (!existsSync(cfg)) throw new CliError(`--testnet-dir ${dir}: no config.yaml in it`);
    config = loadBeaconConfig(cfg, warn, info);
    if (genesisPath === undefined && existsSync(join(dir, "genesis.ssz"))) genesisPath = join(dir, "genesis.ssz");
  } else if (v.network === "minimal") {
    config = loadBeaconConfig(v.network, warn);
  } else if (v.network !== undefined) {
    if (!isBundledNetwork(v.network)) {
      throw new CliError(`--network: expected minimal, ${BUNDLED_NETWORKS.join(", ")}; got ${JSON.stringify(v.network)}`);
    }
    try {
      bundled = loadBundledNetwork(v.network, { warn, info });
    } catch (e) {
      throw new CliError((e as Error).message, { cause: e });
    }
    config = bundled.config;
    // an interop chain under a network's config is a private chain: no shipped genesis, no boot nodes
    if (genesisPath === undefined && v["interop-validators"] === undefined) genesisPath = bundled.genesisStatePath;
  } else {
    config = loadBeaconConfig(v.config!, warn, info);
  }
  if (genesisPath !== undefined && v["interop-validators"] !== undefined) {
    throw new CliError("give --genesis-state or --interop-validators, not both");
  }
  const bootnodes = bundled && v["interop-validators"] === undefined ? bundled.bootnodes : [];
  if (genesisPath !== undefined) {
    const bytes = readInputFile(genesisPath, `genesis state ${genesisPath}`);
    let state;
    try {
      state = config.types.BeaconState.deserializeToViewDU(bytes);
    } catch (e) {
      const flag = v.network !== undefined ? "--network" : v.config !== undefined ? "--config" : "--testnet-dir";
      throw new CliError(`genesis state ${genesisPath} is ${notAStateMessage(config, bytes, flag, (e as Error).message)}`);
    }
    const wrong = bundled ? genesisMismatch(bundled, state) : null;
    if (wrong) throw new CliError(`genesis state ${genesisPath} is not the ${bundled!.name} genesis: ${wrong}`);
    if (bundled && bundled.genesisValidatorsRoot === undefined) warn(`no published genesis_validators_root for ${bundled.name}: genesis state ${genesisPath} not checked`);
    return { config, genesis: bytes, bootnodes, network: bundled, depositBlock: bundled?.depositBlock };
  }
  if (v["interop-validators"] !== undefined) {
    const n = parseUintArg("--interop-validators", v["interop-validators"]);
    if (n < config.SLOTS_PER_EPOCH) throw new CliError(`--interop-validators: at least SLOTS_PER_EPOCH (${config.SLOTS_PER_EPOCH}) validators are needed`);
    const time = v["genesis-time"] !== undefined ? parseUintArg("--genesis-time", v["genesis-time"]) : Math.ceil(Date.now() / 10_000) * 10;
    return { config, genesis: createInteropGenesisState(config, n, time).serialize(), bootnodes, network: bundled };
  }
  if (v["genesis-time"] !== undefined) throw new CliError("--genesis-time needs --interop-validators");
  return { config, genesis: null, bootnodes, network: bundled, depositBlock: bundled?.depositBlock };
}

/** `--checkpoint-*` and `--force`: where an empty datadir's chain starts, when not at genesis. */
export function parseCheckpointArgs(v: {
  "checkpoint-sync-url": string[];
  "checkpoint-state"?: string;
  "checkpoint-block"?: string;
  force: boolean;
  "interop-validators"?: string;
}): CheckpointSource | undefined {
  const urls = v["checkpoint-sync-url"];
  const [state, block] = [v["checkpoint-state"], v["checkpoint-block"]];
  if (urls.length > 0 && (state !== undefined || block !== undefined)) {
    throw new CliError("give --checkpoint-sync-url, or --checkpoint-state with --checkpoint-block, not both");
  }
  if ((state === undefined) !== (block === undefined)) throw new CliError("--checkpoint-state and --checkpoint-block go together");
  const any = urls.length > 0 || state !== undefined;
  if (!any) {
    if (v.force) throw new CliError("--force applies to checkpoint sync (--checkpoint-sync-url or --checkpoint-state)");
    return undefined;
  }
  if (v["interop-validators"] !== undefined) throw new CliError("give --interop-validators or a checkpoint, not both");
  for (const u of urls) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new CliError(`--checkpoint-sync-url: ${JSON.stringify(u)} is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliError(`--checkpoint-sync-url: ${JSON.stringify(u)} is not an http(s) URL`);
  }
  return urls.length > 0 ? { urls, force: v.force } : { stateFile: state, blockFile: block, force: v.force };
}

/** `--enr.*`: what the ENR advertises instead of the bound address and ports. */
export function parseEnrArgs(v: { ip?: string; tcpPort?: number; udpPort?: number }): { ip?: string; tcpPort?: number; udpPort?: number } {
  if (v.ip !== undefined && (isIP(v.ip) === 0 || v.ip === "0.0.0.0" || v.ip === "::")) {
    throw new CliError(`--enr.ip: expected the IPv4 or IPv6 address peers reach this node at, got ${JSON.stringify(v.ip)}`);
  }
  if (v.tcpPort === 0) throw new CliError("--enr.tcp-port: 0 is not a port to advertise");
  if (v.udpPort === 0) throw new CliError("--enr.udp-port: 0 is not a port to advertise");
  return { ...(v.ip !== undefined ? { ip: v.ip } : {}), ...(v.tcpPort !== undefined ? { tcpPort: v.tcpPort } : {}), ...(v.udpPort !== undefined ? { udpPort: v.udpPort } : {}) };
}

/** --eth1.endpoints, --deposit-contract, --deposit-block: the follower's options, or null without endpoints. */
export function eth1Args(
  config: BeaconConfig,
  v: { "eth1.endpoints": string[]; "deposit-contract"?: string; "deposit-block"?: number },
  networkDepositBlock?: number,
): BeaconNodeOptions["eth1"] {
  const endpoints = v["eth1.endpoints"];
  if (endpoints.length === 0) {
    if (v["deposit-contract"] !== undefined || v["deposit-block"] !== undefined) throw new CliError("--deposit-contract and --deposit-block need --eth1.endpoints");
    return null;
  }
  for (const e of endpoints) if (!/^https?:\/\/[^/]/.test(e)) throw new CliError(`--eth1.endpoints: ${JSON.stringify(e)} is not an http(s) URL`);
  const depositContract = v["deposit-contract"] ?? toHex(config.DEPOSIT_CONTRACT_ADDRESS);
  if (!/^0x[0-9a-fA-F]{40}$/.test(depositContract)) throw new CliError(`--deposit-contract: expected a 0x address of 20 bytes, got ${JSON.stringify(depositContract)}`);
  return { endpoints, depositContract, depositBlock: v["deposit-block"] ?? networkDepositBlock ?? 0 };
}

/** Resolves on the first SIGINT/SIGTERM (and removes its handlers); `signal` aborts then too. */
export function waitForShutdownSignal(logger: Logger): { promise: Promise<string>; dispose(): void; signal: AbortSignal } {
  const abort = new AbortController();
  let dispose = () => {};
  const promise = new Promise<string>((resolve) => {
    const onSignal = (sig: string) => {
      logger.info("shutting down", { signal: sig });
      dispose();
      abort.abort();
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
  return { promise, dispose: () => dispose(), signal: abort.signal };
}

async function run(args: string[], io: Io): Promise<number> {
  const { values: v, given } = parseOptions(NAME, BEACON_OPTIONS, args);
  const logger = createLogger({ level: v["log-level"] });
  const checkpoint = parseCheckpointArgs(v);
  const { config, genesis, bootnodes, network: bundled, depositBlock } = loadNetwork(v, (m) => io.stderr(`warning: ${m}\n`), (m) => logger.info(m));
  const datadir = v.datadir ?? defaultDatadir(v.network ?? config.CONFIG_NAME, "beacon");
  if (v.datadir === undefined) logger.info("datadir", { path: datadir });
  const eth1 = eth1Args(config, v, depositBlock);
  // an empty datadir needs a genesis: say which file was looked for, before anything starts
  if (genesis === null && checkpoint === undefined && eth1 === null && !existsSync(join(datadir, "chain"))) {
    const dir = v["testnet-dir"];
    throw new CliError(
      dir !== undefined
        ? `no genesis state: ${join(dir, "genesis.ssz")} does not exist (put the network's genesis.ssz there, or give --genesis-state FILE.ssz)`
        : `no genesis state for an empty --datadir ${datadir}: give --genesis-state FILE.ssz (or --interop-validators N)`,
    );
  }
  const metricsOn = v.metrics || given("metrics.port");
  let network: BeaconNodeOptions["network"] = null;
  if (!v["no-network"]) {
    const p2pPort = v["p2p-port"];
    const enr = parseEnrArgs({ ip: v["enr.ip"], tcpPort: v["enr.tcp-port"], udpPort: v["enr.udp-port"] }); // before the key file is written
    network = {
      privateKey: await loadOrCreateNetworkKey(datadir),
      host: v["p2p-host"],
      p2pPort,
      discoveryPort: v["no-discovery"] ? null : (v["discovery-port"] ?? p2pPort),
      enr,
      bootnodes: given("bootnodes") ? v.bootnodes : bootnodes,
      staticPeers: v.peers,
      targetPeers: v["target-peers"],
    };
  }
  const clockOpts = simClockOptions(v, v["unsafe-time-follow-mean"]);
  let clock: ProcessClock | undefined;
  const shutdown = waitForShutdownSignal(logger);
  let node: BeaconNode;
  try {
    node = await BeaconNode.start({
      config,
      datadir: datadir,
      genesisState: genesis ?? undefined,
      checkpoint: checkpoint && { ...checkpoint, network: bundled },
      rest: v["no-rest"] ? null : { address: v["rest.address"], port: v["rest.port"] },
      metrics: metricsOn ? { address: v["metrics.address"], port: v["metrics.port"] } : null,
      network,
      eth1,
      signal: shutdown.signal,
      logger,
      ...(hasClockOptions(clockOpts) ? { now: (clock = createProcessClock({ ...clockOpts, logger })).now } : {}),
    });
  } catch (e) {
    clock?.close();
    shutdown.dispose();
    throw new CliError((e as Error).message, { cause: e });
  }
  await shutdown.promise;
  await node.close();
  clock?.close();
  logger.info("stopped");
  return EXIT_OK;
}

export const command: Command = { help, run };
