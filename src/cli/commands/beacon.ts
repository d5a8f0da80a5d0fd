// cairn beacon: run a beacon node (database, chain, wall clock, REST API, metrics) until SIGINT/SIGTERM.
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { BeaconConfig } from "../../config/index.js";
import { BUNDLED_NETWORKS, genesisMismatch, isBundledNetwork } from "../../config/networks.js";
import { loadNetwork as loadBundledNetwork, type BundledNetwork } from "../../network/networks.js";
import { BeaconNode, type BeaconNodeOptions } from "../../node/node.js";
import { loadOrCreateNetworkKey } from "../../node/networkKey.js";
import { createInteropGenesisState } from "../../state-transition/index.js";
import { createLogger, isLogLevel, type Logger } from "../../util/logger.js";
import { CliError, EXIT_OK, loadBeaconConfig, parseCommandArgs, parseUintArg, readInputFile, type Command, type Io } from "../common.js";

const NAME = "beacon";

const help = `Usage: cairn beacon --datadir <DIR> (--network <NAME> | --config <FILE.yaml> | --testnet-dir <DIR>)
                    [--genesis-state <FILE.ssz>] [--interop-validators <N> --genesis-time <T>]
                    [--rest.address <A>] [--rest.port <P>] [--no-rest]
                    [--metrics] [--metrics.address <A>] [--metrics.port <P>] [--log-level <L>]
                    [--p2p-host <A>] [--p2p-port <P>] [--discovery-port <P> | --no-discovery]
                    [--enr.ip <A>] [--enr.tcp-port <P>] [--enr.udp-port <P>]
                    [--bootnodes <ENR,...>] [--peers <MULTIADDR,...>] [--target-peers <N>] [--no-network]

Runs a beacon node: its database in --datadir, the chain driven by the wall clock, the standard Beacon
Node REST API, and Prometheus metrics. Stops cleanly on SIGINT or SIGTERM. A datadir that already holds
a chain resumes from it; an empty one needs a genesis state.

Network (one of):
  --network <name>           mainnet, pyrmont, medalla, spadina, zinken: a bundled public network (its config,
                             boot nodes and, for zinken, genesis state; networks/ in the repository)
                             minimal: the minimal preset (spec v0.12.3), for local chains
  --config <FILE.yaml>       a config file (flat spec keys, or PRESET_BASE with overrides)
  --testnet-dir <DIR>        a directory holding config.yaml and genesis.ssz (the convention other clients use)

Genesis (when the datadir is empty):
  --genesis-state <FILE>     the genesis state, SSZ (for a bundled network: its genesis_validators_root must be
                             the published one)
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

Networking (libp2p: TCP, noise, mplex or yamux, gossipsub; discv5):
  --p2p-host <A>             address to listen on (default 0.0.0.0: all interfaces)
  --enr.ip <A>               address to advertise in the ENR (default: --p2p-host unless 0.0.0.0; else learned
                             from peers)
  --enr.tcp-port <P>         TCP port to advertise (default: the p2p port)
  --enr.udp-port <P>         UDP port to advertise (default: the discovery port)
  --p2p-port <P>             libp2p TCP port (default 9000)
  --discovery-port <P>       discv5 UDP port (default: the p2p port)
  --no-discovery             no discv5: static peers only
  --bootnodes <ENR,...>      discv5 boot nodes (enr:... strings; default: the bundled network's)
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

/** The config, the genesis state bytes when one was named (or shipped), and the network's boot nodes. */
export function loadNetwork(
  v: NetworkArgs,
  warn: (m: string) => void,
  info: (m: string) => void = warn,
): { config: BeaconConfig; genesis: Uint8Array | null; bootnodes: string[] } {
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
      throw new CliError(`genesis state ${genesisPath} is not a BeaconState for this config: ${(e as Error).message}`);
    }
    const wrong = bundled ? genesisMismatch(bundled, state) : null;
    if (wrong) throw new CliError(`genesis state ${genesisPath} is not the ${bundled!.name} genesis: ${wrong}`);
    if (bundled && bundled.genesisValidatorsRoot === undefined) warn(`no published genesis_validators_root for ${bundled.name}: genesis state ${genesisPath} not checked`);
    return { config, genesis: bytes, bootnodes };
  }
  if (v["interop-validators"] !== undefined) {
    const n = parseUintArg("--interop-validators", v["interop-validators"]);
    if (n < config.SLOTS_PER_EPOCH) throw new CliError(`--interop-validators: at least SLOTS_PER_EPOCH (${config.SLOTS_PER_EPOCH}) validators are needed`);
    const time = v["genesis-time"] !== undefined ? parseUintArg("--genesis-time", v["genesis-time"]) : Math.ceil(Date.now() / 10_000) * 10;
    return { config, genesis: createInteropGenesisState(config, n, time).serialize(), bootnodes };
  }
  if (v["genesis-time"] !== undefined) throw new CliError("--genesis-time needs --interop-validators");
  return { config, genesis: null, bootnodes };
}

/** `--enr.*`: what the ENR advertises instead of the bound address and ports. */
export function parseEnrArgs(v: { "enr.ip"?: string; "enr.tcp-port"?: string; "enr.udp-port"?: string }): { ip?: string; tcpPort?: number; udpPort?: number } {
  const ip = v["enr.ip"];
  if (ip !== undefined && (isIP(ip) === 0 || ip === "0.0.0.0" || ip === "::")) {
    throw new CliError(`--enr.ip: expected the IPv4 or IPv6 address peers reach this node at, got ${JSON.stringify(ip)}`);
  }
  const port = (flag: string, x: string | undefined) => {
    if (x === undefined) return undefined;
    const p = parsePort(flag, x, 0);
    if (p === 0) throw new CliError(`${flag}: 0 is not a port to advertise`);
    return p;
  };
  const tcpPort = port("--enr.tcp-port", v["enr.tcp-port"]);
  const udpPort = port("--enr.udp-port", v["enr.udp-port"]);
  return { ...(ip !== undefined ? { ip } : {}), ...(tcpPort !== undefined ? { tcpPort } : {}), ...(udpPort !== undefined ? { udpPort } : {}) };
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
      "enr.ip": { type: "string" },
      "enr.tcp-port": { type: "string" },
      "enr.udp-port": { type: "string" },
      bootnodes: { type: "string" },
      peers: { type: "string" },
      "target-peers": { type: "string" },
      "no-network": { type: "boolean" },
    },
  });
  if (v.datadir === undefined) throw new CliError("--datadir is required (see cairn beacon --help)");
  const logger = createLogger(parseLogLevel(v["log-level"]));
  const { config, genesis, bootnodes } = loadNetwork(v, (m) => io.stderr(`warning: ${m}\n`), (m) => logger.info(m));
  const metricsOn = v.metrics === true || v["metrics.port"] !== undefined;
  let network: BeaconNodeOptions["network"] = null;
  if (v["no-network"] !== true) {
    const p2pPort = parsePort("--p2p-port", v["p2p-port"], 9000);
    const list = (x: string | undefined) => (x ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
    const enr = parseEnrArgs(v); // before the key file is written: bad options change nothing
    network = {
      privateKey: await loadOrCreateNetworkKey(v.datadir),
      // all interfaces, as other clients do; `cairn testnet` passes 127.0.0.1
      host: v["p2p-host"] ?? "0.0.0.0",
      p2pPort,
      discoveryPort: v["no-discovery"] ? null : parsePort("--discovery-port", v["discovery-port"], p2pPort),
      enr,
      bootnodes: v.bootnodes !== undefined ? list(v.bootnodes) : bootnodes,
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
