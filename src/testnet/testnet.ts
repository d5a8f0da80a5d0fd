// A local multi-node testnet: N beacon nodes and their validator clients as separate OS processes on 127.0.0.1,
// validators split among them, connected by static peers and discv5. The node processes are the real `cairn beacon`
// and `cairn validator` commands; this only prepares their directories, starts, stops and watches them (through the
// REST API), so a scenario (kill a node, add a late one) is a few calls.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPair, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { createBeaconConfig, type BeaconConfig } from "../config/index.js";
import { chainConfigToYaml } from "../config/load.js";
import { interopSecretKeyBytes } from "../crypto/interop.js";
import { createInteropGenesisState } from "../state-transition/index.js";
import { createKeystores, writeKeystore } from "../validator/keystore/index.js";

export interface TestnetOptions {
  config: BeaconConfig;
  nodes: number;
  validators: number;
  datadir: string;
  secondsPerSlot: number;
  /** genesis this many seconds after the files are written (time for the processes to start) */
  genesisDelaySeconds?: number;
  basePort?: number;
  logLevel?: string;
  /** validators per node, in order (default: split evenly); must add up to `validators` */
  split?: number[];
  /** the static peers of node i (default: every other node's address); see peerAddress() */
  peersFor?: (i: number) => string[];
  /** discv5 off: static peers only (a simulator that cuts links must know every connection) */
  noDiscovery?: boolean;
  /** more arguments for node i's beacon node or validator client */
  extraArgs?: (i: number, process: "beacon" | "validator") => string[];
}

export interface NodeHandle {
  index: number;
  dir: string;
  peerId: string;
  p2pPort: number;
  discoveryPort: number;
  restPort: number;
  metricsPort: number;
  /** validator indices [from, to) run by this node's validator client (none for a late node) */
  validators: [number, number];
  beacon: ChildProcess | null;
  validator: ChildProcess | null;
}

export interface NodeView {
  index: number;
  up: boolean;
  headSlot: number | null;
  headRoot: string | null;
  finalizedEpoch: number | null;
  finalizedRoot: string | null;
  justifiedEpoch: number | null;
  peers: number | null;
  syncing: boolean | null;
}

const bin = fileURLToPath(new URL("../../../bin/cairn.js", import.meta.url));
const PASSWORD = "cairn-testnet";

export class Testnet {
  readonly nodes: NodeHandle[] = [];
  readonly config: BeaconConfig;
  readonly testnetDir: string;
  genesisTime = 0;
  private readonly logs: WriteStream[] = [];

  constructor(private readonly o: TestnetOptions) {
    this.config = createBeaconConfig({ ...o.config, SECONDS_PER_SLOT: o.secondsPerSlot });
    this.testnetDir = join(o.datadir, "testnet");
  }

  private ports(i: number): { p2p: number; discovery: number; rest: number; metrics: number } {
    const base = this.o.basePort ?? 19000;
    return { p2p: base + i, discovery: base + 100 + i, rest: base + 200 + i, metrics: base + 300 + i };
  }

  /** Writes config.yaml, genesis.ssz, every node's network key and every validator client's keystores. */
  async prepare(): Promise<void> {
    const { o, config } = this;
    mkdirSync(this.testnetDir, { recursive: true });
    const { types: _types, ...chainConfig } = config;
    writeFileSync(join(this.testnetDir, "config.yaml"), chainConfigToYaml(chainConfig));
    this.genesisTime = Math.floor(Date.now() / 1000) + (o.genesisDelaySeconds ?? 15);
    const genesis = createInteropGenesisState(config, o.validators, this.genesisTime);
    writeFileSync(join(this.testnetDir, "genesis.ssz"), genesis.serialize());
    if (o.split && (o.split.length !== o.nodes || o.split.reduce((a, b) => a + b, 0) !== o.validators)) {
      throw new Error(`the split ${o.split.join("+")} does not give ${o.validators} validators to ${o.nodes} nodes`);
    }
    let next = 0;
    for (let i = 0; i < o.nodes; i++) {
      const count = o.split ? o.split[i] : Math.floor(((i + 1) * o.validators) / o.nodes) - Math.floor((i * o.validators) / o.nodes);
      await this.addNodeDir([next, next + count]);
      next += count;
    }
  }

  private async addNodeDir(validators: [number, number]): Promise<NodeHandle> {
    const index = this.nodes.length;
    const dir = join(this.o.datadir, `node${index}`);
    mkdirSync(join(dir, "beacon"), { recursive: true });
    const key = await generateKeyPair("secp256k1");
    writeFileSync(join(dir, "beacon", "network-key"), privateKeyToProtobuf(key), { mode: 0o600 });
    const ports = this.ports(index);
    const handle: NodeHandle = {
      index,
      dir,
      peerId: peerIdFromPrivateKey(key).toString(),
      p2pPort: ports.p2p,
      discoveryPort: ports.discovery,
      restPort: ports.rest,
      metricsPort: ports.metrics,
      validators,
      beacon: null,
      validator: null,
    };
    const [from, to] = validators;
    if (to > from) {
      const vcDir = join(dir, "validator");
      const keys = Array.from({ length: to - from }, (_, k) => ({ secretKey: interopSecretKeyBytes(from + k), path: "" }));
      // pbkdf2 with a low cost: these are the public interop keys, encrypted only to exercise the keystore path (at
      // EIP-2335's 2^18 a restarted client of 16 keys spent seconds decrypting: slots of missed duties in cairn sim)
      const created = await createKeystores(keys, PASSWORD, { kdf: "pbkdf2", kdfCost: 1 << 10 });
      for (const k of created) writeKeystore(vcDir, k.pubkeyHex, k.text, PASSWORD);
    }
    this.nodes.push(handle);
    return handle;
  }

  /** Node i's libp2p address, at `port` (default: its own; a simulator passes a proxy's). */
  peerAddress(i: number, port = this.nodes[i].p2pPort): string {
    return `/ip4/127.0.0.1/tcp/${port}/p2p/${this.nodes[i].peerId}`;
  }

  private spawnLogged(n: NodeHandle, name: string, args: string[]): ChildProcess {
    const log = createWriteStream(join(n.dir, `${name}.log`), { flags: "a" });
    this.logs.push(log);
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    return child;
  }

  /** Starts node i's beacon node (peering with every other node) and, if it has validators, its validator client. */
  startNode(i: number): void {
    this.startBeacon(i);
    this.startValidator(i);
  }

  startBeacon(i: number): void {
    const n = this.nodes[i];
    const peers = this.o.peersFor ? this.o.peersFor(i) : this.nodes.filter((m) => m.index !== i).map((m) => this.peerAddress(m.index));
    n.beacon = this.spawnLogged(n, "beacon", [
      "beacon",
      "--testnet-dir",
      this.testnetDir,
      "--datadir",
      join(n.dir, "beacon"),
      "--rest.port",
      String(n.restPort),
      // loopback only: cairn beacon listens on all interfaces by default
      "--p2p-host",
      "127.0.0.1",
      "--p2p-port",
      String(n.p2pPort),
      "--discovery-port",
      String(n.discoveryPort),
      "--peers",
      peers.join(","),
      "--target-peers",
      String(this.o.nodes + 4), // room for late nodes: a full node turns away peers beyond its target
      "--log-level",
      this.o.logLevel ?? "info",
      "--metrics.port",
      String(n.metricsPort),
      ...(this.o.noDiscovery ? ["--no-discovery"] : []),
      ...(this.o.extraArgs?.(i, "beacon") ?? []),
    ]);
  }

  /** Starts node i's validator client, if it has validators. */
  startValidator(i: number): void {
    const n = this.nodes[i];
    const [from, to] = n.validators;
    if (to > from) {
      n.validator = this.spawnLogged(n, "validator", [
        "validator",
        "--beacon-nodes",
        `http://127.0.0.1:${n.restPort}`,
        "--datadir",
        join(n.dir, "validator"),
        "--password-file",
        this.passwordFile(),
        "--config",
        join(this.testnetDir, "config.yaml"),
        // each key runs in one client of a chain that starts now: a watch would only cost the first epochs
        "--doppelganger-protection",
        "false",
        "--log-level",
        this.o.logLevel ?? "info",
        ...(this.o.extraArgs?.(i, "validator") ?? []),
      ]);
    }
  }

  private passwordFile(): string {
    const p = join(this.testnetDir, "password.txt");
    writeFileSync(p, PASSWORD);
    return p;
  }

  /** A node without validators, started later (it must sync from its peers). */
  async addLateNode(): Promise<number> {
    const n = await this.addNodeDir([0, 0]);
    this.startNode(n.index);
    return n.index;
  }

  /** Prepares one more node's directory (no validators) without starting it: a simulator's late joiner. */
  async addNode(): Promise<number> {
    return (await this.addNodeDir([0, 0])).index;
  }

  /** SIGKILL (a crash) or SIGTERM (a clean stop) the beacon node of node i; its validator client keeps running. */
  async stopBeacon(i: number, signal: NodeJS.Signals): Promise<void> {
    const child = this.nodes[i].beacon;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
    this.nodes[i].beacon = null;
  }

  /** Starts node i's beacon node again (same datadir and ports); its validator client is left as it is. */
  restartBeacon(i: number): void {
    this.startBeacon(i);
  }

  /** SIGKILL or SIGTERM node i's validator client. */
  async stopValidator(i: number, signal: NodeJS.Signals): Promise<void> {
    const child = this.nodes[i].validator;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    await exited;
    this.nodes[i].validator = null;
  }

  async view(i: number): Promise<NodeView> {
    const n = this.nodes[i];
    const base = `http://127.0.0.1:${n.restPort}`;
    const out: NodeView = { index: i, up: false, headSlot: null, headRoot: null, finalizedEpoch: null, finalizedRoot: null, justifiedEpoch: null, peers: null, syncing: null };
    try {
      const get = async (path: string) => {
        const r = await fetch(base + path, { signal: AbortSignal.timeout(2000) });
        if (!r.ok) throw new Error(`${path}: ${r.status}`);
        return ((await r.json()) as { data: unknown }).data as Record<string, unknown>;
      };
      const header = (await get("/eth/v1/beacon/headers/head")) as { root: string; header: { message: { slot: string } } };
      out.up = true;
      out.headSlot = Number(header.header.message.slot);
      out.headRoot = header.root;
      const fin = (await get("/eth/v1/beacon/states/head/finality_checkpoints")) as {
        finalized: { epoch: string; root: string };
        current_justified: { epoch: string };
      };
      out.finalizedEpoch = Number(fin.finalized.epoch);
      out.finalizedRoot = fin.finalized.root;
      out.justifiedEpoch = Number(fin.current_justified.epoch);
      const peerCount = (await get("/eth/v1/node/peer_count")) as { connected: string };
      out.peers = Number(peerCount.connected);
      const syncing = (await get("/eth/v1/node/syncing")) as { is_syncing: boolean };
      out.syncing = syncing.is_syncing;
    } catch {
      // a node that is down or starting: reported as such
    }
    return out;
  }

  async views(): Promise<NodeView[]> {
    return Promise.all(this.nodes.map((_, i) => this.view(i)));
  }

  async stopAll(): Promise<void> {
    const all: Promise<void>[] = [];
    for (const n of this.nodes) {
      for (const child of [n.validator, n.beacon]) {
        if (!child || child.exitCode !== null) continue;
        all.push(
          new Promise<void>((resolve) => {
            const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
            child.once("exit", () => {
              clearTimeout(t);
              resolve();
            });
            child.kill("SIGTERM");
          }),
        );
      }
    }
    await Promise.all(all);
    for (const l of this.logs) l.end();
  }
}
