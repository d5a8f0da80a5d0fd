// cairn beacon: run a beacon node (database, chain, wall clock, libp2p networking with sync, REST API, metrics)
// until SIGINT/SIGTERM. Parses the flags, loads the network config and genesis, and hands the rest to BeaconNode.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BeaconConfig } from "../../config/index.js";
import { BeaconNode, type BeaconNodeOptions } from "../../node/node.js";
import { loadOrCreateNetworkKey } from "../../node/networkKey.js";
import { createInteropGenesisState } from "../../state-transition/index.js";
import { createLogger, isLogLevel, type Logger } from "../../util/logger.js";
import { CliError, EXIT_OK, loadBeaconConfig, parseCommandArgs, parseUintArg, readInputFile, type Command, type Io } from "../common.js";

const NAME = "beacon";

const help = `Usage: cairn beacon --datadir <DIR> (--network <minimal|mainnet> | --config <FILE.yaml> | --testnet-dir <DIR>)
                    [--genesis-state <FILE.ssz>] [--interop-validators <N> --genesis-time <T>]
                    [--rest.address <A>] [--rest.port <P>] [--no-rest]
                    [--metrics] [--metrics.address <A>] [--metrics.port <P>] [--log-level <L>]
                    [--p2p-host <A>] [--p2p-port <P>] [--discovery-port <P> | --no-discovery]
                    [--bootnodes <ENR,...>] [--peers <MULTIADDR,...>] [--target-peers <N>] [--no-network]

Runs a beacon node: its database in --datadir, the chain driven by the wall clock, the standard Beacon
Node REST API, and Prometheus metrics. Stops cleanly on SIGINT or SIGTERM. A datadir that already holds
a chain resumes from it; an empty one needs a genesis state.

Network (one of):
  --network <name>           a built-in preset: minimal or mainnet (spec v0.12.3)
  --config <FILE.yaml>       a config file (flat spec keys, or PRESET_BASE with overrides)
  --testnet-dir <DIR>        a directory holding config.yaml and genesis.ssz (the convention other clients use)

Genesis (when the datadir is empty):
  --genesis-state <FILE>     the genesis state, SSZ
  --interop-validators <N>   build the interop genesis (deterministic keys) with N validators instead
  --genesis-time <T>         its genesis time, Unix seconds (default: now, rounded up to the next 10 s)

Options:
  --datadir <DIR>            where the database lives (created when missing)
  --rest.address <A>         REST API address (default 127.0.0.1)
  --rest.port <P>            REST API port (default 5052; 0 picks a free port)
  --no-rest                  no REST API
  --metrics                  serve Prometheus metrics (implied by --metrics.port)
  --metrics.address <A>      metrics address (default 127.0.0.1)
  --metrics.port <P>         metrics port (default 5054)
  --log-level <L>            error, warn, info (default) or debug

Networking (libp2p: TCP, noise, yamux, gossipsub; discv5):
  --p2p-host <A>             address to listen on and advertise (default 127.0.0.1)
  --p2p-port <P>             libp2p TCP port (default 9000)
  --discovery-port <P>       discv5 UDP port (default: the p2p port)
  --no-discovery             no discv5: static peers only
  --bootnodes <ENR,...>      discv5 boot nodes (enr:... strings)
  --peers <MULTIADDR,...>    static peers (/ip4/.../tcp/.../p2p/<peer id>), kept connected
  --target-peers <N>         peers to keep (default 25)
  --no-network               no networking at all (a node fed only through the REST API)
The node's identity key is <datadir>/network-key (created on first start).
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

export function parseLogLevel(v: string | undefined): Parameters<typeof createLogger>[0] {
  const level = v ?? "info";
  if (!isLogLevel(level)) throw new CliError(`--log-level: expected error, warn, info or debug, got ${JSON.stringify(level)}`);
  return { level };
}

export function parsePort(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const p = parseUintArg(flag, v);
  if (p > 65535) throw new CliError(`${flag}: ${p} is not a port`);
  return p;
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
  const { values: v } = parseCommandArgs(NAME, {
    args,
    strict: true,
    allowPositionals: false,
    options: {
      datadir: { type: "string" },
      network: { type: "string" },
      config: { type: "string" },
      "testnet-dir": { type: "string" },
      "genesis-state": { type: "string" },
      "interop-validators": { type: "string" },
      "genesis-time": { type: "string" },
      "rest.address": { type: "string" },
      "rest.port": { type: "string" },
      "no-rest": { type: "boolean" },
      metrics: { type: "boolean" },
      "metrics.address": { type: "string" },
      "metrics.port": { type: "string" },
      "log-level": { type: "string" },
      "p2p-host": { type: "string" },
      "p2p-port": { type: "string" },
      "discovery-port": { type: "string" },
      "no-discovery": { type: "boolean" },
      bootnodes: { type: "string" },
      peers: { type: "string" },
      "target-peers": { type: "string" },
      "no-network": { type: "boolean" },
    },
  });
  if (v.datadir === undefined) throw new CliError("--datadir is required (see cairn beacon --help)");
  const logger = createLogger(parseLogLevel(v["log-level"]));
  const { config, genesis } = loadNetwork(v, (m) => io.stderr(`warning: ${m}\n`));
  const metricsOn = v.metrics === true || v["metrics.port"] !== undefined;
  let network: BeaconNodeOptions["network"] = null;
  if (v["no-network"] !== true) {
    const p2pPort = parsePort("--p2p-port", v["p2p-port"], 9000);
    const list = (x: string | undefined) => (x ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
    network = {
      privateKey: await loadOrCreateNetworkKey(v.datadir),
      host: v["p2p-host"] ?? "127.0.0.1",
      p2pPort,
      discoveryPort: v["no-discovery"] ? null : parsePort("--discovery-port", v["discovery-port"], p2pPort),
      bootnodes: list(v.bootnodes),
      staticPeers: list(v.peers),
      targetPeers: v["target-peers"] === undefined ? undefined : parseUintArg("--target-peers", v["target-peers"]),
    };
  }
  const shutdown = waitForShutdownSignal(logger);
  let node: BeaconNode;
  try {
    node = await BeaconNode.start({
      config,
      datadir: v.datadir,
      genesisState: genesis ?? undefined,
      rest: v["no-rest"] ? null : { address: v["rest.address"] ?? "127.0.0.1", port: parsePort("--rest.port", v["rest.port"], 5052) },
      metrics: metricsOn ? { address: v["metrics.address"] ?? "127.0.0.1", port: parsePort("--metrics.port", v["metrics.port"], 5054) } : null,
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
