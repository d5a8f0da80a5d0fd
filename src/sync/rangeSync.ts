// Range sync: catch up with peers that are ahead, in batches downloaded from several peers at once and imported in
// order. Medalla's clients restarted from the finalized block whenever a peer left; here progress is the chain
// itself: every batch starts from the local head (or, when the peers are on another fork, from the common
// ancestor found by stepping back), so a dropped peer costs one batch, retried from another peer.
//
//   peers' Status -> target (highest head among usable peers)
//     -> batches [head+1, head+1+B), [.., ..) ... up to `maxBatchesAhead` in flight, each from a different peer
//     -> imported strictly in order; a batch that fails (timeout, bad response, invalid block) goes to another peer
//     -> a first block whose parent is unknown means a fork: step back towards finality and try again
import type { BeaconChain } from "../chain/chain.js";
import { BlockError, blockErrorOutcome } from "../chain/blocks/errors.js";
import type { BeaconConfig } from "../config/index.js";
import { toHex } from "../util/bytes.js";
import type { Logger } from "../util/logger.js";
import type { SignedBeaconBlock, Status } from "../types/index.js";
import { WakeableSleep } from "../util/eventLoop.js";

const MAX_REQUESTS_PER_PEER = 2;
/** downloaded batches imported as one segment at most (4 x 2 epochs: the post-states in flight stay bounded) */
const MAX_BATCHES_PER_SEGMENT = 4;

export type PeerAction = "fatal" | "lowTolerance" | "midTolerance" | "highTolerance";

/** What sync needs from the peer manager. */
export interface SyncPeers {
  /** connected peers that passed the status handshake, with their latest status */
  getPeerStatuses(): Map<string, Status>;
  reportPeer(peer: string, action: PeerAction, reason: string): void;
}

/** What sync needs from req/resp. */
export interface SyncFetcher {
  beaconBlocksByRange(peer: string, req: { startSlot: number; count: number; step: number }): Promise<SignedBeaconBlock[]>;
  beaconBlocksByRoot(peer: string, roots: Uint8Array[]): Promise<SignedBeaconBlock[]>;
}

export interface RangeSyncOptions {
  config: BeaconConfig;
  chain: BeaconChain;
  peers: SyncPeers;
  fetcher: SyncFetcher;
  /** the wall clock's slot */
  currentSlot: () => number;
  logger?: Logger;
  /** slots per batch (default 2 epochs) */
  batchSlots?: number;
  /** batches downloading at once (default 4) */
  maxBatchesAhead?: number;
  /** attempts per batch before the target is given up (default 5) */
  maxBatchAttempts?: number;
  /** no block imported for this long while behind: start over from the head (default 60 s) */
  stallTimeoutMs?: number;
  /** how long to wait between checks when there is nothing to do (default 1 s) */
  idleMs?: number;
  /** import blocks with signature verification (default true) */
  verifySignatures?: boolean;
  onProgress?: (p: SyncProgress) => void;
}

export interface SyncProgress {
  headSlot: number;
  targetSlot: number;
  blocksPerSecond: number;
  /** seconds left at the current rate (null while unknown) */
  etaSeconds: number | null;
  peers: number;
}

export type SyncState = "stalled" | "syncing" | "synced";

interface Batch {
  startSlot: number;
  count: number;
  attempts: number;
  /** peers that failed this batch: not asked again for it */
  failedPeers: Set<string>;
  peer: string | null;
  blocks: SignedBeaconBlock[] | null;
  download: Promise<void> | null;
}

export class RangeSync {
  state: SyncState = "stalled";
  blocksImported = 0;
  private stopped = true;
  private loop: Promise<void> = Promise.resolve();
  private readonly sleeper = new WakeableSleep();
  private readonly busyPeers = new Map<string, number>();
  private lastImportAt = Date.now();
  private rateWindow: { at: number; blocks: number }[] = [];
  private readonly batchSlots: number;
  private readonly maxBatchesAhead: number;
  private readonly maxBatchAttempts: number;

  constructor(private readonly o: RangeSyncOptions) {
    this.batchSlots = o.batchSlots ?? o.config.SLOTS_PER_EPOCH * 2;
    this.maxBatchesAhead = o.maxBatchesAhead ?? 4;
    this.maxBatchAttempts = o.maxBatchAttempts ?? 5;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run().catch((e: unknown) => this.o.logger?.warn("range sync stopped on an error", { error: (e as Error).message }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    await this.loop;
  }

  /** A peer's status changed or a peer connected: look again without waiting for the idle timer. */
  notify(): void {
    this.sleeper.wake();
  }

  get headSlot(): number {
    return this.o.chain.query.headSlot;
  }

  /** The highest head slot among peers whose head is not a known-invalid chain. */
  bestPeerHeadSlot(): number {
    let best = -1;
    for (const [, s] of this.o.peers.getPeerStatuses()) {
      if (this.o.chain.query.isKnownInvalid(toHex(s.headRoot))) continue;
      if (s.headSlot > best) best = s.headSlot;
    }
    return best;
  }

  private usablePeers(minHeadSlot: number): string[] {
    const out: string[] = [];
    for (const [peer, s] of this.o.peers.getPeerStatuses()) {
      if (this.o.chain.query.isKnownInvalid(toHex(s.headRoot))) continue;
      if (s.headSlot >= minHeadSlot) out.push(peer);
    }
    return out;
  }

  private setState(s: SyncState): void {
    if (this.state === s) return;
    this.state = s;
    this.o.logger?.info(`sync ${s}`, { head: this.headSlot, clock: this.o.currentSlot() });
  }

  private sleep(ms: number): Promise<void> {
    return this.sleeper.sleep(ms);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const target = this.bestPeerHeadSlot();
      if (target <= this.headSlot) {
        // nobody is ahead: synced if the head is near the clock (or no peer claims more)
        this.setState(target < 0 && this.o.currentSlot() - this.headSlot > this.o.config.SLOTS_PER_EPOCH ? "stalled" : "synced");
        await this.sleep(this.o.idleMs ?? 1000);
        continue;
      }
      this.setState("syncing");
      try {
        await this.syncTo(target);
      } catch (e) {
        this.o.logger?.warn("sync round failed; starting over from the head", { error: (e as Error).message });
        await this.sleep(this.o.idleMs ?? 1000);
      }
    }
  }

  /** Downloads and imports from the head towards `target`, returning when it is reached or the round gives up. */
  private async syncTo(target: number): Promise<void> {
    let start = this.headSlot + 1;
    let backtrack = 0;
    const queue: Batch[] = [];
    const stall = this.o.stallTimeoutMs ?? 60_000;
    this.lastImportAt = Date.now();
    const newBatch = (startSlot: number): Batch => ({
      startSlot,
      count: this.batchSlots,
      attempts: 0,
      failedPeers: new Set(),
      peer: null,
      blocks: null,
      download: null,
    });
    let nextStart = start;

    while (!this.stopped) {
      target = Math.max(target, this.bestPeerHeadSlot());
      // keep the window full
      while (queue.length < this.maxBatchesAhead && nextStart <= target) {
        queue.push(newBatch(nextStart));
        nextStart += this.batchSlots;
      }
      if (queue.length === 0) return; // reached the target
      for (const b of queue) if (!b.download && !b.blocks) this.startDownload(b);

      const first = queue[0];
      if (!first.blocks) {
        if (Date.now() - this.lastImportAt > stall) {
          this.o.logger?.warn("sync stalled: no block imported in time; starting over from the head", { head: this.headSlot, stallMs: stall });
          return;
        }
        if (first.download) await Promise.race([first.download, this.sleep(500)]);
        else await this.sleep(500);
        if (first.attempts >= this.maxBatchAttempts && !first.blocks) {
          throw new Error(`batch at slot ${first.startSlot} failed ${first.attempts} times`);
        }
        continue;
      }

      // the first batch and the downloaded ones right after it, imported in order as one segment (the import's
      // pipeline drains at the end of a segment: fewer, longer segments keep the BLS workers busy)
      const run: Batch[] = [first];
      for (let k = 1; k < queue.length && run.length < MAX_BATCHES_PER_SEGMENT; k++) {
        const prev = run[run.length - 1];
        if (!queue[k].blocks || queue[k].startSlot !== prev.startSlot + prev.count) break;
        run.push(queue[k]);
      }
      const { done, outcome } = await this.importBatches(run);
      for (let k = 0; k < done; k++) {
        const b = queue.shift()!;
        start = b.startSlot + b.count;
      }
      if (done === run.length) continue;
      const failed = run[done];
      if (outcome === "fork") {
        // our head is not on the peers' chain: step back (1, 2, 4 ... batches) towards the finalized slot
        backtrack = backtrack === 0 ? 1 : backtrack * 2;
        const finalizedSlot = this.o.chain.query.finalizedSlot;
        const from = Math.max(finalizedSlot + 1, failed.startSlot - backtrack * this.batchSlots);
        this.o.logger?.info("peers are on another fork: looking for the common ancestor", { from, head: this.headSlot });
        queue.length = 0;
        nextStart = from;
        if (from === finalizedSlot + 1 && backtrack > 64) throw new Error("no common ancestor after the finalized slot");
        continue;
      }
      if (outcome === "retry") continue;
      // "ok": the segment stopped at a block nobody is to blame for (finalized meanwhile, beyond the clock)
      queue.shift();
      start = failed.startSlot + failed.count;
    }
  }

  private pickPeer(b: Batch): string | null {
    const last = b.startSlot + b.count - 1;
    // a peer whose head is before the batch's end may still serve its start; prefer those past it
    let candidates = this.usablePeers(last).filter((p) => !b.failedPeers.has(p));
    if (candidates.length === 0) candidates = this.usablePeers(b.startSlot).filter((p) => !b.failedPeers.has(p));
    // req/resp serves at most 2 concurrent requests per protocol per peer
    candidates = candidates.filter((p) => (this.busyPeers.get(p) ?? 0) < MAX_REQUESTS_PER_PEER);
    if (candidates.length === 0) return null;
    candidates.sort((x, y) => (this.busyPeers.get(x) ?? 0) - (this.busyPeers.get(y) ?? 0));
    return candidates[0];
  }

  private startDownload(b: Batch): void {
    const peer = this.pickPeer(b);
    if (!peer) {
      // every usable peer failed this batch: forget the failures and try again later
      const usable = this.usablePeers(b.startSlot);
      if (b.failedPeers.size > 0 && usable.length > 0 && usable.every((p) => b.failedPeers.has(p))) b.failedPeers.clear();
      return;
    }
    b.peer = peer;
    b.attempts++;
    this.busyPeers.set(peer, (this.busyPeers.get(peer) ?? 0) + 1);
    b.download = this.o.fetcher
      .beaconBlocksByRange(peer, { startSlot: b.startSlot, count: b.count, step: 1 })
      .then((blocks) => {
        b.blocks = blocks;
      })
      .catch((e: unknown) => {
        b.failedPeers.add(peer);
        this.o.logger?.debug("batch download failed", { startSlot: b.startSlot, peer, error: (e as Error).message });
      })
      .finally(() => {
        this.busyPeers.set(peer, Math.max(0, (this.busyPeers.get(peer) ?? 1) - 1));
        b.download = null;
      });
  }

  /**
   * Imports consecutive downloaded batches as one segment. `done`: how many leading batches are fully imported (or
   * known); the batch after them, if any, gets `outcome`: "ok" (nobody's fault: move on), "fork" (its first block
   * does not attach), "retry" (it was bad, or our own trouble).
   */
  private async importBatches(run: Batch[]): Promise<{ done: number; outcome: "ok" | "fork" | "retry" }> {
    const blocks: SignedBeaconBlock[] = [];
    const ends: number[] = [];
    for (const b of run) {
      for (const block of b.blocks ?? []) blocks.push(block);
      ends.push(blocks.length);
    }
    if (blocks.length === 0) return { done: run.length, outcome: "ok" };
    let r;
    try {
      // one segment: the state transition of a block overlaps the signature checks of those before it
      r = await this.o.chain.processChainSegment(blocks, {
        verifySignatures: this.o.verifySignatures ?? true,
        onImported: () => this.countImport(),
      });
    } catch (e) {
      if (!(e instanceof BlockError)) throw e;
      // our own trouble (queue full, chain closed): retry the batch without blaming the peer
      this.o.logger?.warn("import failed", { startSlot: run[0].startSlot, error: e.message });
      run[0].blocks = null;
      return { done: 0, outcome: "retry" };
    }
    const stop = r.stop;
    if (stop === null) return { done: run.length, outcome: "ok" };
    const j = ends.findIndex((end) => stop.index < end);
    const b = run[j];
    const slot = blocks[stop.index].message.slot;
    if ("parentUnknown" in stop) {
      // the chain remembers invalid blocks and refuses their descendants (KNOWN_INVALID) before any work
      if (stop.index === r.skipped) return { done: j, outcome: "fork" };
      return { done: j, outcome: this.failBatch(b, "lowTolerance", `block ${stop.root} does not follow the previous block of its batch`) };
    }
    const outcome = blockErrorOutcome(stop.error);
    if (outcome.fault === "nobody") return { done: j, outcome: "ok" }; // finalized meanwhile, or beyond the clock: the next round sees
    if (outcome.fault === "peer") {
      this.o.logger?.warn("peer served an invalid block", { peer: b.peer, slot, error: stop.error.message });
      return { done: j, outcome: this.failBatch(b, "lowTolerance", `invalid block at slot ${slot}: ${stop.error.message}`) };
    }
    // our own trouble (store, regen): retry the batch without blaming the peer
    this.o.logger?.warn("import failed", { slot, error: stop.error.message });
    b.blocks = null;
    return { done: j, outcome: "retry" };
  }

  private failBatch(b: Batch, action: PeerAction, reason: string): "retry" {
    if (b.peer) {
      this.o.peers.reportPeer(b.peer, action, reason);
      b.failedPeers.add(b.peer);
    }
    b.blocks = null;
    return "retry";
  }

  private countImport(): void {
    this.blocksImported++;
    const now = Date.now();
    this.lastImportAt = now;
    this.rateWindow.push({ at: now, blocks: this.blocksImported });
    while (this.rateWindow.length > 2 && now - this.rateWindow[0].at > 10_000) this.rateWindow.shift();
    if (this.blocksImported % 32 === 0) this.o.onProgress?.(this.progress());
  }

  progress(): SyncProgress {
    const w = this.rateWindow;
    let rate = 0;
    if (w.length >= 2) {
      const dt = (w[w.length - 1].at - w[0].at) / 1000;
      if (dt > 0) rate = (w[w.length - 1].blocks - w[0].blocks) / dt;
    }
    const target = Math.max(this.bestPeerHeadSlot(), this.headSlot);
    return {
      headSlot: this.headSlot,
      targetSlot: target,
      blocksPerSecond: Math.round(rate * 10) / 10,
      etaSeconds: rate > 0 ? Math.round((target - this.headSlot) / rate) : null,
      peers: this.o.peers.getPeerStatuses().size,
    };
  }
}
