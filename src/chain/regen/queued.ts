import type { CachedBeaconState } from "../../state-transition/index.js";
import type { BeaconBlock } from "../../types/index.js";
import type { BlockStateCache, CheckpointStateCache } from "../stateCache.js";
import { CheckpointStateCache as Cps } from "../stateCache.js";
import type { RegenStats, StateRegenerator } from "./stateRegenerator.js";

/** Who asked: every request is tagged so the counters show which component causes regen work. */
export type RegenCaller = "importBlock" | "forkChoice" | "api" | "gossip" | "validator" | "sync" | "harness" | "restart" | "test";

export interface RegenCounters extends RegenStats {
  requests: number;
  /** requests answered from a cache without queueing */
  cacheHits: number;
  /** requests that joined an identical request already under way */
  shared: number;
  /** requests refused because the queue was full */
  dropped: number;
  byCaller: Record<string, number>;
}

export class RegenQueueFullError extends Error {}

/**
 * Callers driven by requests from outside (queries, gossip validation) may not start replays longer than the
 * regenerator's limit; the chain's own callers (import, fork choice, restart, sync) replay whatever it takes.
 */
function replayLimited(caller: RegenCaller): boolean {
  return caller === "api" || caller === "gossip" || caller === "validator";
}

interface Job {
  run: () => Promise<CachedBeaconState>;
  resolve: (s: CachedBeaconState) => void;
  reject: (e: unknown) => void;
}

/**
 * The only way into state regeneration. Every request goes through one queue with bounded concurrency and bounded
 * length; identical concurrent requests share one result; the caches are checked before queueing. This is what
 * stops a regeneration storm (many callers each replaying the same long chain, as Teku did on Medalla).
 */
export class QueuedStateRegenerator {
  readonly counters: RegenCounters;
  private readonly inflight = new Map<string, Promise<CachedBeaconState>>();
  private readonly queue: Job[] = [];
  private running = 0;

  constructor(
    private readonly regen: StateRegenerator,
    private readonly blockStates: BlockStateCache,
    private readonly checkpointStates: CheckpointStateCache,
    stats: RegenStats,
    private readonly opts: { maxConcurrency: number; maxQueueLength: number } = { maxConcurrency: 1, maxQueueLength: 256 },
  ) {
    this.counters = Object.assign(stats, { requests: 0, cacheHits: 0, shared: 0, dropped: 0, byCaller: {} });
  }

  get queueLength(): number {
    return this.queue.length;
  }

  getBlockState(rootHex: string, caller: RegenCaller): Promise<CachedBeaconState> {
    this.count(caller);
    const hit = this.blockStates.get(rootHex);
    if (hit) return this.hit(hit);
    const limited = replayLimited(caller);
    return this.dedupe(`block:${rootHex}:${limited}`, () => this.regen.getBlockState(rootHex, limited ? undefined : Infinity));
  }

  /** See StateRegenerator.checkpointStateFrom: no regen queued, the caller has the block's state. */
  checkpointStateFrom(epoch: number, rootHex: string, blockState: CachedBeaconState): Promise<CachedBeaconState> {
    return this.regen.checkpointStateFrom(epoch, rootHex, blockState);
  }

  getCheckpointState(epoch: number, rootHex: string, caller: RegenCaller): Promise<CachedBeaconState> {
    this.count(caller);
    const hit = this.checkpointStates.get(Cps.key(epoch, rootHex));
    if (hit) return this.hit(hit);
    const limited = replayLimited(caller);
    return this.dedupe(`cp:${epoch}:${rootHex}:${limited}`, () => this.regen.getCheckpointState(epoch, rootHex, limited ? undefined : Infinity));
  }

  /** A fresh mutable pre-state; never shared, so identical calls are not merged (each caller mutates its own). */
  getPreState(block: BeaconBlock, caller: RegenCaller): Promise<CachedBeaconState> {
    this.count(caller);
    return this.enqueue(() => this.regen.getPreState(block));
  }

  private count(caller: RegenCaller): void {
    this.counters.requests++;
    this.counters.byCaller[caller] = (this.counters.byCaller[caller] ?? 0) + 1;
  }

  private hit(state: CachedBeaconState): Promise<CachedBeaconState> {
    this.counters.cacheHits++;
    return Promise.resolve(state);
  }

  private dedupe(key: string, run: () => Promise<CachedBeaconState>): Promise<CachedBeaconState> {
    const existing = this.inflight.get(key);
    if (existing) {
      this.counters.shared++;
      return existing;
    }
    const p = this.enqueue(run).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private enqueue(run: () => Promise<CachedBeaconState>): Promise<CachedBeaconState> {
    if (this.queue.length >= this.opts.maxQueueLength) {
      this.counters.dropped++;
      return Promise.reject(new RegenQueueFullError(`regen queue full (${this.queue.length} waiting)`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ run, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.running < this.opts.maxConcurrency && this.queue.length > 0) {
      const job = this.queue.shift() as Job;
      this.running++;
      job
        .run()
        .then(job.resolve, job.reject)
        .finally(() => {
          this.running--;
          this.drain();
        });
    }
  }
}

