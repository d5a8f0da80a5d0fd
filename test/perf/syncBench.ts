// `npm run bench -- --sync`: range sync of a realistic mainnet-preset chain (syncChain.ts) from one Cairn node to
// another, each in its own process, over libp2p on 127.0.0.1, every signature verified; beside it the BLS bound.
//
// Per size: the chain is built (or read from the cache); blst's batch cost per signature set is measured on the
// chain's own sets (one block's sets per batch, and batches of 64; pubkeys already aggregated: the pure batch cost)
// in CPU time, in a process of its own; the serving node imports the chain with signatures off and listens; the syncing node starts with the REST
// API on and its BLS worker pool, dials it and range-syncs. While it syncs, this process asks its REST API for
// /eth/v1/node/syncing and /eth/v1/beacon/headers/head every API_INTERVAL_MS, both at once; a tick whose previous
// pair has not been answered yet is skipped (a steady rate while the node keeps up, and no pile of queued requests
// that would measure the poller rather than the node when it does not). The syncing node reports
// blocks/s from its first import to its last (startup and peering excluded) and the event-loop delay over that span.
//
// BLS bound = cores / (signature sets per block x CPU ms per set, the lower of the two batchings): the rate if the
// import were nothing but batch verification spread over every core. CPU time, not wall: blst's own thread pool
// runs part of a batch on a second thread, so its wall time per set is not the cost of a set on one core.
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism, getPriority, setPriority } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RESULT_PREFIX } from "./files.js";
import type { SyncChainMeta } from "./syncChain.js";
import type { BlsCostResult, SyncRunResult } from "./syncChild.js";

const READY_PREFIX = "@@READY ";
const here = dirname(fileURLToPath(import.meta.url));
const API_PATHS = ["/eth/v1/node/syncing", "/eth/v1/beacon/headers/head"];
export const API_INTERVAL_MS = 100;

export interface SyncBenchOptions {
  epochs: number;
  blsWorkers: number;
  /** write a V8 CPU profile of the syncing node's main thread over the synced range here */
  cpuProfDir?: string;
  /** dial the serving node at once instead of after the BLS workers' key preload */
  keysCold?: boolean;
  log: (msg: string) => void;
}

export interface ApiLatency {
  requests: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface SyncSizeResult {
  validators: number;
  chain: SyncChainMeta;
  bls: BlsCostResult;
  run: SyncRunResult;
  api: ApiLatency & { perPath: Record<string, ApiLatency>; /** the poller process's nice value (-10 when it could be raised) */ pollerPriority: number };
  setsPerBlock: number;
  blsBoundBlocksPerSecond: number;
  ratio: number;
  /** the batch verification's CPU time per block, and its share of the syncing node's CPU time per block */
  blsCpuMsPerBlock: number;
  blsCpuShare: number;
  line: string;
}

interface Child {
  proc: ChildProcess;
  ready: Promise<Record<string, unknown>>;
  result: Promise<unknown>;
}

/** `node syncChild.js ...`: its @@READY and @@RESULT lines as promises; stderr passed through. */
function startChild(args: string[], nodeArgs: string[] = []): Child {
  const proc = spawn(process.execPath, [...nodeArgs, join(here, "syncChild.js"), ...args], { stdio: ["pipe", "pipe", "inherit"] });
  let buf = "";
  let onReady: (v: Record<string, unknown>) => void = () => {};
  let onResult: (v: unknown) => void = () => {};
  const ready = new Promise<Record<string, unknown>>((resolve) => (onReady = resolve));
  const result = new Promise<unknown>((resolve, reject) => {
    onResult = resolve;
    proc.on("error", reject);
    proc.on("close", (code) => reject(new Error(`sync benchmark process "${args.join(" ")}" ended (exit code ${code}) without a result`)));
  });
  // a child that dies before it is ready fails the wait for it too
  void result.catch(() => undefined);
  const readyOrFail = Promise.race([ready, result.then(() => ({}) as Record<string, unknown>)]);
  proc.stdout!.setEncoding("utf8");
  proc.stdout!.on("data", (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith(READY_PREFIX)) onReady(JSON.parse(line.slice(READY_PREFIX.length)) as Record<string, unknown>);
      else if (line.startsWith(RESULT_PREFIX)) onResult(JSON.parse(line.slice(RESULT_PREFIX.length)));
    }
  });
  return { proc, ready: readyOrFail, result };
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function latency(samples: { ms: number; ok: boolean }[]): ApiLatency {
  const ms = samples.map((s) => s.ms);
  const r = (x: number) => Number(x.toFixed(1));
  return { requests: samples.length, failures: samples.filter((s) => !s.ok).length, p50Ms: r(quantile(ms, 0.5)), p99Ms: r(quantile(ms, 0.99)), maxMs: r(quantile(ms, 1)) };
}

/** Asks the API at a steady rate until stopped; every request's start time (Date.now), path and latency. */
/**
 * The poller's own process is raised above the nodes where the system allows it (root, or a raised limit): the two
 * nodes keep both cores busy, and a poller waiting its turn on a core measured the scheduler, not the node (a
 * request of 133 ms while the node's event loop never stalled over 28 ms). Returns the priority it runs at.
 */
function raisePollerPriority(): number {
  try {
    setPriority(0, -10);
  } catch {
    // not permitted: the latencies then include the poller's own waits for a core
  }
  return getPriority(0);
}

function pollApi(base: string) {
  const samples: { at: number; path: string; ms: number; ok: boolean }[] = [];
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    if (inFlight.size > 0) return;
    for (const path of API_PATHS) {
      const at = Date.now();
      const t = performance.now();
      const p = fetch(base + path)
        .then(async (res) => {
          await res.arrayBuffer();
          samples.push({ at, path, ms: performance.now() - t, ok: res.ok });
        })
        .catch(() => void samples.push({ at, path, ms: performance.now() - t, ok: false }))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, API_INTERVAL_MS);
  return {
    samples,
    async stop(): Promise<void> {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}

export function formatSyncLine(validators: number, blocksPerSecond: number, bound: number, apiP99: number, loopP99: number): string {
  return `sync ${validators}: ${blocksPerSecond.toFixed(1)} blocks/s, BLS bound ${bound.toFixed(0)} blocks/s, ratio ${(blocksPerSecond / bound).toFixed(2)}, api p99 ${apiP99.toFixed(1)} ms, event-loop p99 ${loopP99.toFixed(1)} ms`;
}

export async function runSyncSize(validators: number, o: SyncBenchOptions): Promise<SyncSizeResult> {
  const base = ["--validators", String(validators), "--epochs", String(o.epochs)];
  o.log(`-- sync chain (${o.epochs} epochs)`);
  const chain = (await startChild(["prepare", ...base], ["--max-old-space-size=8192"]).result) as SyncChainMeta;
  o.log(`   ${chain.blocks} blocks, ${chain.committeesPerSlot} committees per slot, ${chain.signatureSets} signature sets`);
  o.log(`-- blst batch cost per set`);
  const bls = (await startChild(["bls", ...base]).result) as BlsCostResult;
  o.log(`   CPU ${bls.cpuMsPerSet} ms per set in one block's batch, ${bls.cpuMsPerSet64} in batches of 64 (wall ${bls.msPerSet}; ${bls.passes} passes over ${bls.blocksPerPass} blocks' sets)`);
  o.log(`-- serving node: importing the chain`);
  const server = startChild(["serve", ...base]);
  let syncer: Child | null = null;
  try {
    const { multiaddr } = (await server.ready) as { multiaddr?: string };
    if (!multiaddr) throw new Error("the serving node did not start");
    o.log(`-- syncing node: range sync from ${multiaddr}`);
    const prof = o.cpuProfDir ? ["--prof-dir", o.cpuProfDir] : [];
    syncer = startChild(["sync", ...base, "--peer", multiaddr, "--bls-workers", String(o.blsWorkers), ...prof, ...(o.keysCold ? ["--keys-cold"] : [])]);
    const { restPort } = (await syncer.ready) as { restPort?: number };
    if (!restPort) throw new Error("the syncing node did not start");
    const pollerPriority = raisePollerPriority();
    const poller = pollApi(`http://127.0.0.1:${restPort}`);
    let run: SyncRunResult;
    try {
      run = (await syncer.result) as SyncRunResult;
    } finally {
      await poller.stop();
    }
    const during = poller.samples.filter((s) => s.at >= run.firstImportAt && s.at <= run.lastImportAt);
    const perPath: Record<string, ApiLatency> = {};
    for (const p of API_PATHS) perPath[p] = latency(during.filter((s) => s.path === p));
    const api = { ...latency(during), perPath, pollerPriority };
    const setsPerBlock = chain.signatureSets / chain.blocks;
    // blst's CPU time per set on one core (its wall time may use a second thread), times the cores the node has
    const bound = availableParallelism() / ((setsPerBlock * bls.bestCpuMsPerSet) / 1000);
    const line = formatSyncLine(validators, run.blocksPerSecond, bound, api.p99Ms, run.eventLoopP99Ms);
    return {
      validators,
      chain,
      bls,
      run,
      api,
      setsPerBlock: Number(setsPerBlock.toFixed(2)),
      blsBoundBlocksPerSecond: Number(bound.toFixed(1)),
      ratio: Number((run.blocksPerSecond / bound).toFixed(3)),
      blsCpuMsPerBlock: Number((setsPerBlock * bls.bestCpuMsPerSet).toFixed(2)),
      blsCpuShare: Number(((setsPerBlock * bls.bestCpuMsPerSet) / run.cpuMsPerBlock).toFixed(3)),
      line,
    };
  } finally {
    // the syncing node exits by itself once it has reported (writing its CPU profile first, when asked for one)
    if (syncer) {
      const exited = new Promise((r) => syncer!.proc.once("exit", r));
      const timer = setTimeout(() => syncer!.proc.kill(), 60_000);
      if (syncer.proc.exitCode === null && syncer.proc.signalCode === null) await exited;
      clearTimeout(timer);
    }
    server.proc.stdin!.end();
    await server.result.catch(() => undefined);
  }
}
