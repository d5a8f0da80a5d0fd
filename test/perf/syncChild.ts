// One process of the sync benchmark: `node syncChild.js <mode> --validators N --epochs E [--peer MULTIADDR] [--bls-workers W]`
//   prepare  build the chain into the bench cache (syncChain.ts) if it is not there
//   bls      blst's batch verification cost per signature set, on this thread, on the chain's own sets
//   serve    a Cairn node holding the chain (imported with signatures off before anyone connects) on 127.0.0.1
//   sync     a Cairn node (REST API on, BLS worker pool) that range-syncs the chain from --peer, and reports; with
//            --prof-dir DIR, a V8 CPU profile of its main thread over the synced range (first import to last)
// Progress goes to stderr. `serve` and `sync` print `@@READY <json>` once listening; every mode ends with
// `@@RESULT <json>`. `serve` runs until its stdin closes.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { multiaddr } from "@multiformats/multiaddr";
import { PublicKeyClass, verifySignatureSets, type SignatureSet } from "../../src/crypto/bls.js";
import { BeaconNode } from "../../src/node/node.js";
import { BlsWorkerPool } from "../../src/chain/bls/pool.js";
import { EventLoopDelayMonitor } from "../../src/util/eventLoop.js";
import { RESULT_PREFIX } from "./files.js";
import { benchConfig } from "./fixtures.js";
import { prepareSyncChain, readSampleSets, readSyncChain, type SyncChainMeta } from "./syncChain.js";

export const READY_PREFIX = "@@READY ";

export interface BlsCostResult {
  /** wall ms per signature set in a batch of one block's sets, median over passes (blst may use a second thread) */
  msPerSet: number;
  /** CPU ms per set (all threads of this process) in batches of one block's sets: the cost on one core */
  cpuMsPerSet: number;
  /** CPU ms per set in batches of 64 sets (one multi-pairing amortized over more sets) */
  cpuMsPerSet64: number;
  /** the lower of the two: what the bound is computed from */
  bestCpuMsPerSet: number;
  passes: number;
  setsPerPass: number;
  blocksPerPass: number;
}

export interface SyncRunResult {
  blocksImported: number;
  headSlot: number;
  /** wall-clock ms (Date.now) of the first and the last block's import */
  firstImportAt: number;
  lastImportAt: number;
  blocksPerSecond: number;
  eventLoopP50Ms: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  importMsP50: number;
  importMsP99: number;
  /** CPU time of the whole process (main thread and BLS workers) over the synced range, per wall-clock second */
  cpuPerSecond: number;
  /** that CPU time per imported block, ms: less sensitive than wall time to what else the machine runs */
  cpuMsPerBlock: number;
  /** from the node's start to its first import (startup, the BLS workers' key preload, peering, the first batch) */
  startToFirstImportMs: number;
  /** from the node's start until its BLS workers held every key, decompressed and validated (null: --keys-cold) */
  keysPreloadMs: number | null;
  /** keys the BLS pool had decompressed and validated (each once per process) by the first import, and by the last */
  keysValidatedBeforeFirstImport: number;
  keysValidated: number;
  /** CPU ms per block by thread name (Linux only; 10 ms ticks, so rough on short runs) */
  cpuMsPerBlockByThread: Record<string, number>;
  /** share of the span the main thread's event loop was busy (performance.eventLoopUtilization) */
  mainThreadUtilization: number;
  /** blocks the chain's state regenerator replayed over the span (states it had to rebuild) */
  regenBlocksReplayed: number;
  blsWorkers: number;
  fullGcs: number;
  rssMb: number;
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

function intArg(args: string[], name: string, dflt?: number): number {
  const v = arg(args, name);
  const n = v === undefined ? dflt : Number(v);
  if (n === undefined || !Number.isInteger(n) || n < 1) throw new Error(`${name}: expected a positive integer, got ${v}`);
  return n;
}

const log = (msg: string) => process.stderr.write(`  ${msg}\n`);

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const round = (x: number, d = 2) => Number(x.toFixed(d));

/** The wall clock of both nodes: one slot past the chain's last block, so every block of it is in the past. */
function nodeClock(meta: SyncChainMeta): () => number {
  const c = benchConfig();
  const offsetMs = Date.now() - (meta.genesisTime + (meta.blocks + 1) * c.SECONDS_PER_SLOT) * 1000;
  return () => Date.now() - offsetMs;
}

function measureBls(validators: number, epochs: number, meta: SyncChainMeta): BlsCostResult {
  // pubkeys parsed (and checked) outside the timing: the chain's pubkey cache holds them parsed, and the worker
  // reads them uncompressed without a check
  const blocks: SignatureSet[][] = readSampleSets(validators, epochs, meta).map((g) =>
    g.map((s) => ({ pubkey: PublicKeyClass.fromBytes(s.pubkey, true), signingRoot: s.signingRoot, signature: s.signature })),
  );
  const all = blocks.flat();
  const of64: SignatureSet[][] = [];
  for (let i = 0; i < all.length; i += 64) of64.push(all.slice(i, i + 64));
  const measure = (groups: SignatureSet[][]) => {
    const setsPerPass = groups.reduce((a, g) => a + g.length, 0);
    const cpuPerSet: number[] = [];
    const perSet: number[] = [];
    const pass = () => {
      const t = performance.now();
      const cpu = process.cpuUsage();
      for (const g of groups) if (!verifySignatureSets(g)) throw new Error("a sample block's signature sets do not verify");
      const used = process.cpuUsage(cpu);
      cpuPerSet.push((used.user + used.system) / 1e3 / setsPerPass);
      perSet.push((performance.now() - t) / setsPerPass);
    };
    pass(); // warm-up
    cpuPerSet.length = 0;
    perSet.length = 0;
    const started = performance.now();
    while (perSet.length < 5 || (perSet.length < 20 && performance.now() - started < 3000)) pass();
    return { ms: quantile(perSet, 0.5), cpu: quantile(cpuPerSet, 0.5), passes: perSet.length, setsPerPass };
  };
  const byBlock = measure(blocks);
  const by64 = measure(of64);
  return {
    msPerSet: round(byBlock.ms, 4),
    cpuMsPerSet: round(byBlock.cpu, 4),
    cpuMsPerSet64: round(by64.cpu, 4),
    bestCpuMsPerSet: round(Math.min(byBlock.cpu, by64.cpu), 4),
    passes: byBlock.passes,
    setsPerPass: byBlock.setsPerPass,
    blocksPerPass: blocks.length,
  };
}

async function startNode(meta: SyncChainMeta, genesis: Uint8Array, opts: { rest: boolean; staticPeers: string[]; blsWorkers: number }): Promise<{ node: BeaconNode; datadir: string }> {
  const datadir = mkdtempSync(join(tmpdir(), "cairn-syncbench-"));
  const node = await BeaconNode.start({
    config: benchConfig(),
    datadir,
    genesisState: genesis,
    rest: opts.rest ? { address: "127.0.0.1", port: 0 } : null,
    metrics: null,
    blsWorkers: opts.blsWorkers,
    now: nodeClock(meta),
    network: { privateKey: await generateKeyPair("secp256k1"), host: "127.0.0.1", p2pPort: 0, discoveryPort: null, staticPeers: opts.staticPeers, targetPeers: 4 },
  });
  return { node, datadir };
}

async function serve(validators: number, epochs: number): Promise<unknown> {
  const { meta, genesis, blocks } = readSyncChain(validators, epochs);
  const c = benchConfig();
  const { node, datadir } = await startNode(meta, genesis, { rest: false, staticPeers: [], blsWorkers: 1 });
  const t0 = performance.now();
  for (let i = 0; i < blocks.length; i++) {
    await node.chain.processBlock({ signed: c.types.SignedBeaconBlock.deserialize(blocks[i]), source: "harness", verifySignatures: false });
    if ((i + 1) % c.SLOTS_PER_EPOCH === 0) log(`server: imported ${i + 1}/${blocks.length} blocks, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await node.chain.settle();
  if (node.chain.headRoot !== meta.headRoot) throw new Error(`server: head ${node.chain.headRoot}, expected ${meta.headRoot}`);
  process.stdout.write(READY_PREFIX + JSON.stringify({ multiaddr: node.network!.libp2p.getMultiaddrs()[0].toString() }) + "\n");
  await new Promise<void>((resolve) => {
    process.stdin.on("end", resolve).on("close", resolve).resume();
    process.once("SIGTERM", resolve);
  });
  await node.close();
  rmSync(datadir, { recursive: true, force: true });
  return { served: true };
}

/** The main thread's CPU profile between start() and stop(), written to `dir` (nothing without a dir). */
function rangeProfiler(dir: string | undefined) {
  if (!dir) return { start: () => Promise.resolve(), stop: () => Promise.resolve() };
  const session = new Session();
  session.connect();
  return {
    async start() {
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    },
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `sync-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      log(`CPU profile of the synced range: ${file}`);
    },
  };
}

/** CPU ms per thread group (Linux: /proc/self/task/<tid>/{comm,stat}); the main thread is "main". Empty elsewhere. */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return out;
  }
  const tick = 10; // ms per clock tick (USER_HZ 100 on Linux)
  const ownNice = getPriority();
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // the BLS pool's worker threads are the ones running below the main thread's priority (bls/worker.ts); the
      // others share the name "node" (libuv's pool: LevelDB, files; V8's platform threads: GC, compilation)
      const name = Number(f[16]) > ownNice ? "bls-worker" : readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
      const comm = Number(tid) === process.pid ? "main" : process.env.CAIRN_BENCH_TIDS ? `${name}:${tid}` : name;
      const ms = (Number(f[11]) + Number(f[12])) * tick; // utime, stime (fields 14, 15)
      out.set(comm, (out.get(comm) ?? 0) + ms);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

function threadCpuDelta(a: Map<string, number>, b: Map<string, number>, blocks: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of b) out[k] = round((v - (a.get(k) ?? 0)) / blocks, 2);
  return out;
}

async function sync(validators: number, epochs: number, peer: string, blsWorkers: number, profDir?: string, keysCold = false): Promise<SyncRunResult> {
  const { meta, genesis } = readSyncChain(validators, epochs);
  const startedAt = performance.now();
  // the peer is dialled once the BLS workers hold every key (as a node does before its first sync batch unless it
  // starts syncing within seconds of starting): the synced range then measures the steady state of a long sync, and
  // the one-off key work is reported beside it. --keys-cold dials at once instead.
  const { node, datadir } = await startNode(meta, genesis, { rest: true, staticPeers: keysCold ? [peer] : [], blsWorkers });
  const pool = node.bls instanceof BlsWorkerPool ? node.bls : null;
  let keysPreloadMs: number | null = null;
  if (!keysCold) {
    await pool?.keysPreloaded();
    keysPreloadMs = Math.round(performance.now() - startedAt);
    await node.network!.libp2p.dial(multiaddr(peer));
  }
  let keysAtFirst = 0;
  const loop = new EventLoopDelayMonitor(5);
  const profiler = rangeProfiler(profDir);
  // with a profile: when the loop was held over 50 ms, by the monotonic clock V8's profile timestamps use (µs)
  const stalls: { endUs: number; ms: number }[] = [];
  let lastTick = process.hrtime.bigint();
  const stallTimer = profDir
    ? setInterval(() => {
        const now = process.hrtime.bigint();
        const ms = Number(now - lastTick) / 1e6;
        if (ms > 50) stalls.push({ endUs: Number(now / 1000n), ms: Math.round(ms) });
        lastTick = now;
      }, 5)
    : null;
  let imported = 0;
  let firstAt = 0;
  let firstPerf = 0;
  let cpuAtFirst = process.cpuUsage();
  let threadsAtFirst = new Map<string, number>();
  let threadsAtLast = new Map<string, number>();
  let eluAtFirst = performance.eventLoopUtilization();
  let replayedBefore = 0;
  let importsBefore = 0;
  let gcsBefore = 0;
  const done = new Promise<{ lastAt: number; lastPerf: number; cpu: NodeJS.CpuUsage; elu: number; replayed: number }>((resolve) => {
    node.chain.emitter.on("block", (e) => {
      imported++;
      if (imported === 1) {
        firstAt = Date.now();
        firstPerf = performance.now();
        keysAtFirst = pool?.keysValidated ?? 0;
        cpuAtFirst = process.cpuUsage();
        threadsAtFirst = threadCpuMs();
        eluAtFirst = performance.eventLoopUtilization();
        replayedBefore = node.chain.query.stats().regen.blocksReplayed;
        importsBefore = node.chain.metrics.importMs.length;
        gcsBefore = node.chain.metrics.gcMs.length;
        loop.reset();
        void profiler.start();
      }
      if (e.slot >= meta.blocks) {
        threadsAtLast = threadCpuMs();
        resolve({
          lastAt: Date.now(),
          lastPerf: performance.now(),
          cpu: process.cpuUsage(cpuAtFirst),
          elu: performance.eventLoopUtilization(eluAtFirst).utilization,
          replayed: node.chain.query.stats().regen.blocksReplayed - replayedBefore,
        });
      }
    });
  });
  process.stdout.write(READY_PREFIX + JSON.stringify({ restPort: node.restPort }) + "\n");
  const end = await done;
  await profiler.stop();
  if (stallTimer) {
    clearInterval(stallTimer);
    writeFileSync(join(profDir!, `stalls-${process.pid}.json`), JSON.stringify(stalls));
  }
  const seconds = (end.lastPerf - firstPerf) / 1000;
  const importMs = node.chain.metrics.importMs.slice(importsBefore);
  const result: SyncRunResult = {
    blocksImported: imported,
    headSlot: node.chain.query.headSlot,
    firstImportAt: firstAt,
    lastImportAt: end.lastAt,
    // the first import starts the clock: the blocks after it over the time they took
    blocksPerSecond: round((imported - 1) / seconds, 1),
    eventLoopP50Ms: round(loop.percentileMs(50), 1),
    eventLoopP99Ms: round(loop.percentileMs(99), 1),
    eventLoopMaxMs: round(loop.maxMs(), 1),
    importMsP50: round(quantile(importMs, 0.5)),
    importMsP99: round(quantile(importMs, 0.99)),
    cpuPerSecond: round((end.cpu.user + end.cpu.system) / 1e6 / seconds),
    cpuMsPerBlock: round((end.cpu.user + end.cpu.system) / 1e3 / (imported - 1), 1),
    mainThreadUtilization: round(end.elu),
    startToFirstImportMs: Math.round(firstPerf - startedAt),
    keysPreloadMs,
    keysValidatedBeforeFirstImport: keysAtFirst,
    keysValidated: pool?.keysValidated ?? 0,
    cpuMsPerBlockByThread: threadCpuDelta(threadsAtFirst, threadsAtLast, imported - 1),
    regenBlocksReplayed: end.replayed,
    blsWorkers,
    fullGcs: node.chain.metrics.gcMs.length - gcsBefore,
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
  loop.close();
  await node.close();
  rmSync(datadir, { recursive: true, force: true });
  return result;
}

async function main(args: string[]): Promise<void> {
  const mode = args[0];
  const validators = intArg(args, "--validators");
  const epochs = intArg(args, "--epochs");
  let result: unknown;
  switch (mode) {
    case "prepare":
      result = await prepareSyncChain(validators, epochs, log);
      break;
    case "bls":
      result = measureBls(validators, epochs, readSyncChain(validators, epochs).meta);
      break;
    case "serve":
      result = await serve(validators, epochs);
      break;
    case "sync": {
      const peer = arg(args, "--peer");
      if (!peer) throw new Error("sync: --peer MULTIADDR is required");
      result = await sync(validators, epochs, peer, intArg(args, "--bls-workers", 2), arg(args, "--prof-dir"), args.includes("--keys-cold"));
      break;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
  process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + "\n");
  // libp2p and the worker pool may leave handles behind after close: the result is out, so leave
  process.exit(0);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
