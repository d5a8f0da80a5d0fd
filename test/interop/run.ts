// `npm run test:interop [-- --only NAME] [--seconds-per-slot N]`: Cairn against real Lodestar 1.5.1 processes on
// loopback, one scenario at a time, each on its own interop genesis (64 validators, minimal preset, short slots).
// Each scenario prints one line `interop <name>: pass|fail <evidence>`; the run ends with `N passed, N failed` and
// exits non-zero on any failure. Logs of every process stay in the temp dir printed first.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cairnBin,
    chainView,
  ensureLodestar,
  freePort,
  getJson,
  logTail,
  networkEvidence,
  repoRoot,
  sleep,
  startCairn,
  startLodestar,
  stopProc,
  writeNetwork,
  type ChainView,
  type Proc,
} from "./support.js";

const VALIDATORS = 64;
const SLOTS_PER_EPOCH = 8; // minimal preset
/** The first finality a healthy chain reaches (at the start of epoch 4). */
const FINALIZED_TARGET = 2;

interface Result {
  pass: boolean;
  evidence: string;
}

/** One scenario's world: its directory, its network files, its processes (all stopped when it ends). */
class Ctx {
  readonly procs: Proc[] = [];
  stopped = false;
  configPath = "";
  genesisPath = "";
  genesisTime = 0;
  constructor(
    readonly dir: string,
    readonly slotSec: number,
    readonly keysDir: string,
    readonly debug: boolean,
  ) {}

  /** A fresh genesis starting `leadSec` from now. */
  network(leadSec: number): void {
    this.genesisTime = Math.floor(Date.now() / 1000) + leadSec;
    ({ configPath: this.configPath, genesisPath: this.genesisPath } = writeNetwork(this.dir, this.slotSec, VALIDATORS, this.genesisTime));
  }

  /** Wall-clock time by which the chain should have finalized FINALIZED_TARGET, with slack for slow starts. */
  finalityDeadline(extraSlots = 0): number {
    const slots = (FINALIZED_TARGET + 2) * SLOTS_PER_EPOCH + 8 + extraSlots;
    return (this.genesisTime + slots * this.slotSec) * 1000;
  }

  async lodestarBeacon(name: string, o: { genesis?: boolean; checkpointSyncUrl?: string; wssCheckpoint?: string; singleNode: boolean; bootnode?: string }): Promise<Node> {
    const rest = await freePort();
    const p2p = await freePort();
    const args = ["beacon", "--network", "dev", "--paramsFile", this.configPath, "--dataDir", join(this.dir, name), "--rest", "--rest.address", "127.0.0.1", "--rest.port", String(rest)];
    // the debug namespace (whole states, for checkpoint sync) is off by default
    args.push("--rest.namespace", "*");
    args.push("--listenAddress", "127.0.0.1", "--port", String(p2p), "--eth1", "false", "--network.allowPublishToZeroPeers", "true");
    if (o.genesis !== false) args.push("--genesisStateFile", this.genesisPath);
    if (o.checkpointSyncUrl) args.push("--checkpointSyncUrl", o.checkpointSyncUrl);
    if (o.wssCheckpoint) args.push("--wssCheckpoint", o.wssCheckpoint);
    if (o.singleNode) args.push("--sync.isSingleNode", "true");
    if (o.bootnode) args.push("--discoveryPort", String(await freePort()), "--bootnodes", o.bootnode, "--network.connectToDiscv5Bootnodes", "true");
    else args.push("--discv5", "false");
    const metrics = await freePort();
    args.push("--metrics", "--metrics.address", "127.0.0.1", "--metrics.port", String(metrics));
    if (this.debug) args.push("--logLevel", "debug");
    const proc = startLodestar(this.dir, name, args);
    this.procs.push(proc);
    return { name, proc, rest: `http://127.0.0.1:${rest}`, metrics: `http://127.0.0.1:${metrics}` };
  }

  async cairnBeacon(name: string, o: { network: boolean; peers?: string[]; checkpointSyncUrl?: string }): Promise<Node> {
    const rest = await freePort();
    const metrics = await freePort();
    const args = ["beacon", "--datadir", join(this.dir, name), "--config", this.configPath, "--rest.port", String(rest), "--metrics.port", String(metrics)];
    if (o.checkpointSyncUrl) args.push("--checkpoint-sync-url", o.checkpointSyncUrl);
    else args.push("--genesis-state", this.genesisPath);
    if (!o.network) args.push("--no-network");
    else {
      args.push("--p2p-host", "127.0.0.1", "--p2p-port", String(await freePort()), "--discovery-port", String(await freePort()), "--enr.ip", "127.0.0.1");
      if (o.peers?.length) args.push("--peers", o.peers.join(","));
    }
    if (this.debug) args.push("--log-level", "debug");
    const proc = startCairn(this.dir, name, args);
    this.procs.push(proc);
    return { name, proc, rest: `http://127.0.0.1:${rest}`, metrics: `http://127.0.0.1:${metrics}` };
  }

  lodestarValidator(name: string, beaconUrl: string): Proc {
    const args = ["validator", "--network", "dev", "--paramsFile", this.configPath, "--dataDir", join(this.dir, name)];
    args.push("--interopIndexes", `0..${VALIDATORS - 1}`, "--beaconNodes", beaconUrl, "--keymanager", "false");
    const proc = startLodestar(this.dir, name, args);
    this.procs.push(proc);
    return proc;
  }

  cairnValidator(name: string, beaconUrl: string): Proc {
    // a fresh datadir per scenario: every genesis has the same validators root, so an old slashing-protection
    // record would refuse the new chain's early slots
    const datadir = join(this.dir, name);
    cpSync(this.keysDir, datadir, { recursive: true });
    const proc = startCairn(this.dir, name, ["validator", "--beacon-nodes", beaconUrl, "--datadir", datadir, "--config", this.configPath]);
    this.procs.push(proc);
    return proc;
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.procs.map(stopProc));
  }

  /** Throws when a process this scenario started has exited on its own. */
  checkAlive(): void {
    for (const p of this.procs) {
      if (p.child.exitCode !== null) throw new Error(`${p.name} exited with status ${p.child.exitCode}: ${logTail(p, 3).replace(/\s+/g, " ")}`);
    }
  }
}

interface Node {
  name: string;
  proc: Proc;
  rest: string;
  /** its Prometheus metrics server */
  metrics: string;
}

/** Polls every second until `cond` returns a value, a process dies, or the deadline passes (then returns null). */
async function pollUntil<T>(ctx: Ctx, deadline: number, cond: () => Promise<T | null>): Promise<T | null> {
  for (;;) {
    if (ctx.stopped) throw new Error("scenario stopped");
    ctx.checkAlive();
    const v = await cond();
    if (v !== null) return v;
    if (Date.now() > deadline) return null;
    await sleep(1000);
  }
}

function short(root: string): string {
  return root.slice(0, 10);
}

function describe(name: string, v: ChainView | null): string {
  return v ? `${name} finalized ${v.finalizedEpoch} head ${v.headSlot} ${short(v.headRoot)}` : `${name} not answering`;
}

/** Waits until every node has finalized `target` and (with more than one node) all heads are one block. */
async function finalityAndAgreement(ctx: Ctx, nodes: Node[], deadline: number, target = FINALIZED_TARGET): Promise<Result> {
  let last: (ChainView | null)[] = [];
  const ok = await pollUntil(ctx, deadline, async () => {
    last = await Promise.all(nodes.map((n) => chainView(n.rest)));
    const all = last.every((v) => v !== null && v.finalizedEpoch >= target);
    const same = new Set(last.map((v) => v?.headRoot)).size === 1;
    return all && same ? true : null;
  });
  const parts = nodes.map((n, i) => describe(n.name, last[i] ?? null));
  if (nodes.length > 1) parts.push(new Set(last.map((v) => v?.headRoot)).size === 1 ? "heads equal" : "heads differ");
  return { pass: ok === true, evidence: parts.join(", ") };
}

/** Waits until `node` has a head at or past `slot` (a leader with a chain worth range-syncing). */
async function headAt(ctx: Ctx, node: Node, slot: number, deadline: number): Promise<boolean> {
  return (await pollUntil(ctx, deadline, async () => ((await chainView(node.rest))?.headSlot ?? -1) >= slot || null)) === true;
}

async function identity(ctx: Ctx, node: Node, deadline: number): Promise<{ peer_id: string; enr: string; p2p_addresses: string[] }> {
  const id = await pollUntil(ctx, deadline, async () => (await getJson<{ data: { peer_id: string; enr: string; p2p_addresses: string[] } }>(`${node.rest}/eth/v1/node/identity`))?.data ?? null);
  if (!id) throw new Error(`${node.name} did not serve /eth/v1/node/identity`);
  return id;
}

function loopbackAddr(addrs: string[]): string {
  const a = addrs.find((x) => x.startsWith("/ip4/127.0.0.1/tcp/"));
  if (!a) throw new Error(`no loopback address in ${addrs.join(" ")}`);
  return a;
}

/** Does this build of `cairn beacon` have the flag (another branch adds it)? */
function cairnHasCheckpointSync(): boolean {
  const r = spawnSync(process.execPath, [cairnBin, "beacon", "--help"], { cwd: repoRoot, encoding: "utf8" });
  return `${r.stdout}${r.stderr}`.includes("--checkpoint-sync-url");
}

const LEAD_SEC = 15; // processes start (Lodestar takes ~5 s) before genesis

const SCENARIOS: Record<string, (ctx: Ctx) => Promise<Result>> = {
  /** Lodestar's validator client does every duty through Cairn's REST API; Cairn's chain finalizes. */
  "lodestar-vc-cairn-bn": async (ctx) => {
    ctx.network(LEAD_SEC);
    const cairn = await ctx.cairnBeacon("cairn-bn", { network: false });
    ctx.lodestarValidator("lodestar-vc", cairn.rest);
    return finalityAndAgreement(ctx, [cairn], ctx.finalityDeadline());
  },

  /** Cairn's validator client against a lone Lodestar beacon node; Lodestar's chain finalizes. */
  "cairn-vc-lodestar-bn": async (ctx) => {
    ctx.network(LEAD_SEC);
    const lodestar = await ctx.lodestarBeacon("lodestar-bn", { singleNode: true });
    ctx.cairnValidator("cairn-vc", lodestar.rest);
    return finalityAndAgreement(ctx, [lodestar], ctx.finalityDeadline());
  },

  /** Lodestar (beacon node + validators) leads; Cairn joins later over libp2p, range-syncs, then follows gossip. */
  "p2p-cairn-follows-lodestar": async (ctx) => {
    ctx.network(LEAD_SEC);
    const lodestar = await ctx.lodestarBeacon("lodestar-bn", { singleNode: true });
    ctx.lodestarValidator("lodestar-vc", lodestar.rest);
    const id = await identity(ctx, lodestar, Date.now() + 60_000);
    if (!(await headAt(ctx, lodestar, SLOTS_PER_EPOCH + 4, ctx.finalityDeadline()))) return { pass: false, evidence: `lodestar made no chain: ${describe("lodestar", await chainView(lodestar.rest))}` };
    const cairn = await ctx.cairnBeacon("cairn-bn", { network: true, peers: [loopbackAddr(id.p2p_addresses)] });
    const r = await finalityAndAgreement(ctx, [lodestar, cairn], ctx.finalityDeadline(SLOTS_PER_EPOCH));
    return { pass: r.pass, evidence: `${r.evidence}; ${await networkEvidence("cairn", cairn.metrics)}; ${await networkEvidence("lodestar", lodestar.metrics)}` };
  },

  /** Cairn (beacon node + validators) leads; Lodestar joins later (Cairn's ENR as its boot node) and follows. */
  "p2p-lodestar-follows-cairn": async (ctx) => {
    ctx.network(LEAD_SEC);
    const cairn = await ctx.cairnBeacon("cairn-bn", { network: true });
    ctx.cairnValidator("cairn-vc", cairn.rest);
    const id = await identity(ctx, cairn, Date.now() + 60_000);
    if (!(await headAt(ctx, cairn, SLOTS_PER_EPOCH + 4, ctx.finalityDeadline()))) return { pass: false, evidence: `cairn made no chain: ${describe("cairn", await chainView(cairn.rest))}` };
    const lodestar = await ctx.lodestarBeacon("lodestar-bn", { singleNode: false, bootnode: id.enr });
    const r = await finalityAndAgreement(ctx, [cairn, lodestar], ctx.finalityDeadline(SLOTS_PER_EPOCH));
    return { pass: r.pass, evidence: `${r.evidence}; ${await networkEvidence("cairn", cairn.metrics)}; ${await networkEvidence("lodestar", lodestar.metrics)}` };
  },

  /**
   * Cairn finalizes alone; Lodestar starts from Cairn's epoch-2 checkpoint state (its REST API, SSZ), then follows
   * Cairn over libp2p. The checkpoint is one epoch older than Cairn's latest finality: Lodestar 1.5.1 sets its
   * justified checkpoint to the anchor's epoch + 1 with the anchor's root, so blocks that only justify that epoch never
   * become its head, and on a chain this short its range sync stops at the peer's head until the next status round
   * (5 minutes). An older anchor gives it blocks that justify later epochs at once.
   */
  "checkpoint-sync-lodestar-from-cairn": async (ctx) => {
    ctx.network(LEAD_SEC);
    const cairn = await ctx.cairnBeacon("cairn-bn", { network: true });
    ctx.cairnValidator("cairn-vc", cairn.rest);
    const id = await identity(ctx, cairn, Date.now() + 60_000);
    const first = await finalityAndAgreement(ctx, [cairn], ctx.finalityDeadline());
    if (!first.pass) return first;
    const checkpoint = (await chainView(cairn.rest))!;
    const anchor = `${checkpoint.finalizedRoot}:${checkpoint.finalizedEpoch}`;
    const later = await finalityAndAgreement(ctx, [cairn], ctx.finalityDeadline(SLOTS_PER_EPOCH), checkpoint.finalizedEpoch + 1);
    if (!later.pass) return later;
    const lodestar = await ctx.lodestarBeacon("lodestar-bn", { genesis: false, checkpointSyncUrl: cairn.rest, wssCheckpoint: anchor, singleNode: false, bootnode: id.enr });
    const r = await finalityAndAgreement(ctx, [cairn, lodestar], Date.now() + 4 * SLOTS_PER_EPOCH * ctx.slotSec * 1000, checkpoint.finalizedEpoch + 1);
    const log = /Initializing beacon from a valid checkpoint state slot=(\d+)/.exec(readFileSync(lodestar.proc.logPath, "utf8"));
    const fromCheckpoint = log !== null && Number(log[1]) === checkpoint.finalizedEpoch * SLOTS_PER_EPOCH;
    return { pass: r.pass && fromCheckpoint, evidence: `lodestar started from cairn's checkpoint ${short(checkpoint.finalizedRoot)}:${checkpoint.finalizedEpoch} (state slot ${log?.[1] ?? "?"}), ${r.evidence}` };
  },

  /** Lodestar finalizes alone; Cairn starts from Lodestar's finalized state, then follows Lodestar over libp2p. */
  "checkpoint-sync-cairn-from-lodestar": async (ctx) => {
    if (!cairnHasCheckpointSync()) return { pass: false, evidence: "flag not supported" };
    ctx.network(LEAD_SEC);
    const lodestar = await ctx.lodestarBeacon("lodestar-bn", { singleNode: true });
    ctx.lodestarValidator("lodestar-vc", lodestar.rest);
    const id = await identity(ctx, lodestar, Date.now() + 60_000);
    const first = await finalityAndAgreement(ctx, [lodestar], ctx.finalityDeadline());
    if (!first.pass) return first;
    const checkpoint = (await chainView(lodestar.rest))!;
    const cairn = await ctx.cairnBeacon("cairn-bn", { network: true, peers: [loopbackAddr(id.p2p_addresses)], checkpointSyncUrl: lodestar.rest });
    // a finality both reach after Cairn started
    const r = await finalityAndAgreement(ctx, [lodestar, cairn], Date.now() + 4 * SLOTS_PER_EPOCH * ctx.slotSec * 1000, checkpoint.finalizedEpoch + 1);
    const log = /checkpoint verified .*epoch=(\d+) root=(0x[0-9a-f]+)/.exec(readFileSync(cairn.proc.logPath, "utf8"));
    const fromCheckpoint = log !== null && Number(log[1]) >= checkpoint.finalizedEpoch;
    return { pass: r.pass && fromCheckpoint, evidence: `cairn started from lodestar's checkpoint ${log ? `${short(log[2])}:${log[1]}` : "(none logged)"}, ${r.evidence}; ${await networkEvidence("cairn", cairn.metrics)}` };
  },
};

function parseArgs(argv: string[]): { only: string | null; slotSec: number; debug: boolean } {
  let only: string | null = null;
  let slotSec = 3;
  let debug = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--only" && argv[i + 1]) only = argv[++i];
    else if (a === "--seconds-per-slot" && /^\d+$/.test(argv[i + 1] ?? "")) slotSec = Number(argv[++i]);
    else if (a === "--debug") debug = true;
    else throw new Error(`unknown argument ${a}; usage: npm run test:interop [-- --only NAME] [--seconds-per-slot N] [--debug]; scenarios: ${Object.keys(SCENARIOS).join(", ")}`);
  }
  if (only !== null && !(only in SCENARIOS)) throw new Error(`--only: no scenario ${only}; scenarios: ${Object.keys(SCENARIOS).join(", ")}`);
  if (slotSec < 2) throw new Error("--seconds-per-slot: at least 2");
  return { only, slotSec, debug };
}

/** The interop keys as `cairn account new --interop` writes them (pbkdf2: quick to decrypt), made once per run. */
function makeCairnKeys(dir: string): string {
  const keys = join(dir, "cairn-keys");
  const pw = join(dir, "password.txt");
  writeFileSync(pw, "interop\n");
  const r = spawnSync(process.execPath, [cairnBin, "account", "new", "--interop", "--count", String(VALIDATORS), "--datadir", keys, "--password-file", pw, "--kdf", "pbkdf2"], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cairn account new --interop failed: ${r.stderr.trim()}`);
  return keys;
}

async function main(): Promise<number> {
  const { only, slotSec, debug } = parseArgs(process.argv.slice(2));
  ensureLodestar((line) => process.stderr.write(`${line}\n`));
  const root = mkdtempSync(join(tmpdir(), "cairn-interop-"));
  console.log(`logs: ${root}`);
  const keysDir = makeCairnKeys(root);
  const names = only ? [only] : Object.keys(SCENARIOS);
  let passed = 0;
  let failed = 0;
  for (const name of names) {
    const dir = join(root, name);
    mkdirSync(dir);
    const ctx = new Ctx(dir, slotSec, keysDir, debug);
    const budgetMs = 300_000; // a hung scenario is a failure, and its processes go with it
    let result: Result;
    let timer: NodeJS.Timeout | undefined;
    const run = SCENARIOS[name](ctx);
    run.catch(() => {}); // after a timeout it ends on its own, rejecting once its processes are gone
    try {
      result = await Promise.race([
        run,
        new Promise<Result>((resolve) => (timer = setTimeout(() => resolve({ pass: false, evidence: `timed out after ${budgetMs / 1000} s` }), budgetMs))),
      ]);
    } catch (e) {
      result = { pass: false, evidence: (e as Error).message };
    } finally {
      clearTimeout(timer);
      await ctx.stopAll();
    }
    if (result.pass) passed++;
    else failed++;
    console.log(`interop ${name}: ${result.pass ? "pass" : "fail"} ${result.evidence}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`interop: ${e.message}`);
    process.exit(2);
  },
);
