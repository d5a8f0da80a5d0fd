// Backfill: a checkpoint-synced node fills in the history before its anchor, back to genesis, from peers'
// beacon_blocks_by_range, while it follows the chain forward as usual. History below a trusted block needs no state
// transition: each block's root is what the next block's parent_root names, so one hash chain from the anchor down
// proves every block. Batches are stored as finalized (cold) blocks with the position, so a restart resumes.
//
// A request reaches up to the oldest stored block (growing over empty ranges, up to MAX_REQUEST_BLOCKS), so whatever
// a peer serves must link to it: blocks that do not are that peer's fault. Only past 1024 empty slots does the window
// slide down; an unlinked answer there may be an earlier peer's false "empty", so nobody is blamed and it starts over.
import type { BeaconConfig } from "../config/index.js";
import type { BeaconDb } from "../db/index.js";
import type { BackfillPosition } from "../db/schema.js";
import type { SignedBeaconBlock } from "../types/index.js";
import { bytesEqual, toHex } from "../util/bytes.js";
import { nullLogger, type Logger } from "../util/logger.js";
import type { SyncFetcher, SyncPeers } from "./rangeSync.js";
import { WakeableSleep } from "../util/eventLoop.js";

/** MAX_REQUEST_BLOCKS of p2p-interface.md */
const MAX_REQUEST_BLOCKS = 1024;
const PROGRESS_LOG_MS = 10_000;

export interface BackfillOptions {
  config: BeaconConfig;
  db: BeaconDb;
  peers: SyncPeers;
  fetcher: Pick<SyncFetcher, "beaconBlocksByRange">;
  logger?: Logger;
  /** slots per request (default 8 epochs), grown over empty ranges */
  batchSlots?: number;
  /** wait between tries when no peer can serve (default 1 s) */
  idleMs?: number;
  onProgress?: (p: BackfillProgress) => void;
}

export interface BackfillProgress {
  /** the oldest slot with history stored (0 once it reaches genesis, or on a chain from genesis) */
  slot: number;
  blocks: number;
  blocksPerSecond: number;
  complete: boolean;
}

export class BackfillSync {
  blocksStored = 0;
  private stopped = true;
  private loop: Promise<void> = Promise.resolve();
  private readonly sleeper = new WakeableSleep();
  private position: BackfillPosition | null = null;
  private startedAt = 0;
  private nextPeer = 0;
  private loggedAt = 0;
  /** peers that served linked blocks: their "nothing below" is believed */
  private readonly servedHistory = new Set<string>();
  private readonly logger: Logger;
  private readonly batchSlots: number;

  constructor(private readonly o: BackfillOptions) {
    this.logger = o.logger ?? nullLogger;
    this.batchSlots = Math.min(o.batchSlots ?? o.config.SLOTS_PER_EPOCH * 8, MAX_REQUEST_BLOCKS);
  }

  /** Resumes from the stored position; does nothing when there is none (a chain from genesis) or it is complete. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run().catch((e: unknown) => this.logger.warn("backfill stopped on an error", { error: (e as Error).message }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    await this.loop;
  }

  /** Whether the history reaches genesis (null: not known yet, before start). */
  get complete(): boolean | null {
    return this.position?.complete ?? null;
  }

  /** Resolves when backfill finishes (complete, or stopped). */
  done(): Promise<void> {
    return this.loop;
  }

  progress(): BackfillProgress {
    const seconds = (Date.now() - this.startedAt) / 1000;
    return {
      slot: this.position && !this.position.complete ? this.position.slot : 0,
      blocks: this.blocksStored,
      blocksPerSecond: seconds > 0 ? Math.round((this.blocksStored / seconds) * 10) / 10 : 0,
      complete: this.position?.complete ?? false,
    };
  }

  private async run(): Promise<void> {
    this.position = await this.o.db.getMeta("backfill");
    if (!this.position || this.position.complete) return;
    this.startedAt = Date.now();
    this.logger.info("backfilling history to genesis", { from: this.position.slot });
    // the request window [end - span, end): it ends at the oldest stored block unless more than MAX_REQUEST_BLOCKS
    // empty slots lie below it, then it slides down (in memory: the stored position moves only with blocks)
    let end = this.position.slot;
    let span = this.batchSlots;
    const failed = new Set<string>();
    const answeredEmpty = new Set<string>();
    const restartWindow = () => {
      end = this.position!.slot;
      span = this.batchSlots;
    };
    while (!this.stopped && !this.position.complete) {
      const pos = this.position;
      const start = Math.max(0, end - span);
      const peer = this.pickPeer(failed);
      if (peer === null) {
        failed.clear();
        restartWindow();
        await this.sleep(this.o.idleMs ?? 1000);
        continue;
      }
      let blocks: SignedBeaconBlock[];
      try {
        blocks = await this.o.fetcher.beaconBlocksByRange(peer, { startSlot: start, count: end - start, step: 1 });
      } catch (e) {
        failed.add(peer);
        this.logger.debug("backfill request failed", { peer, startSlot: start, error: (e as Error).message });
        continue;
      }
      if (this.stopped) break;
      const direct = end === pos.slot; // the window reaches the oldest stored block: what it holds must link to it
      const linked = linkBackwards(this.o.config, blocks, start, end, pos.parentRoot);
      if ("error" in linked) {
        failed.add(peer);
        if (direct) {
          this.logger.warn("peer served unlinked history", { peer, startSlot: start, error: linked.error });
          this.o.peers.reportPeer(peer, "lowTolerance", `backfill: ${linked.error}`);
        } else {
          // the window slid over ranges some peer said were empty: that answer may have been the wrong one
          for (const p of answeredEmpty) failed.add(p);
          restartWindow();
        }
        continue;
      }
      if (linked.blocks.length === 0) {
        answeredEmpty.add(peer);
        if (start > 0) {
          // an empty range, or a peer without it: reach further down, to the same block
          if (span < MAX_REQUEST_BLOCKS) span = Math.min(span + this.batchSlots, MAX_REQUEST_BLOCKS);
          else end = start;
          continue;
        }
        // nothing down to slot 0: a peer without the history, unless the missing parent is the genesis block (taken
        // so only when the genesis root is unknown, and from a peer that has served history)
        if (!direct || pos.genesisBlockRoot !== null || !this.servedHistory.has(peer)) {
          failed.add(peer);
          restartWindow();
          continue;
        }
      }
      await this.store(linked.blocks, start === 0 && direct);
      this.servedHistory.add(peer);
      restartWindow();
      failed.clear();
      answeredEmpty.clear();
    }
  }

  /** Stores linked blocks (oldest last) with the new position, in one batch. */
  private async store(blocks: SignedBeaconBlock[], reachedSlotZero: boolean): Promise<void> {
    const c = this.o.config;
    const pos = this.position!;
    const oldest = blocks.length > 0 ? blocks[blocks.length - 1] : null;
    const parentRoot = oldest ? oldest.message.parentRoot : pos.parentRoot;
    const slot = oldest ? oldest.message.slot : pos.slot;
    // genesis: its root is what the next parent is, or the genesis block itself was served (slot 0)
    let complete = oldest?.message.slot === 0 || (pos.genesisBlockRoot !== null && bytesEqual(parentRoot, pos.genesisBlockRoot));
    if (!complete && reachedSlotZero && pos.genesisBlockRoot === null) {
      // the peers do not serve the genesis block and its root is unknown here: the remaining parent is taken as genesis
      this.logger.warn("backfill: the genesis block root is unknown (no genesis state); the parent of the oldest block is taken as genesis", {
        slot,
        parentRoot,
      });
      complete = true;
    }
    const next: BackfillPosition = { slot, parentRoot, genesisBlockRoot: pos.genesisBlockRoot, complete };
    const batch = this.o.db.newBatch();
    for (const b of blocks) batch.putFinalizedBlock({ slot: b.message.slot, root: c.types.BeaconBlock.hashTreeRoot(b.message), block: b });
    await batch.putMeta("backfill", next).commit();
    this.position = next;
    this.blocksStored += blocks.length;
    const p = this.progress();
    this.o.onProgress?.(p);
    if (complete) {
      this.logger.info("backfill complete: history reaches genesis", { blocks: this.blocksStored });
    } else if (Date.now() - this.loggedAt >= PROGRESS_LOG_MS) {
      this.loggedAt = Date.now();
      this.logger.info("backfilling", { slot, blocks: this.blocksStored, blocksPerSecond: p.blocksPerSecond });
    }
  }

  private pickPeer(failed: Set<string>): string | null {
    const peers = [...this.o.peers.getPeerStatuses().keys()].filter((p) => !failed.has(p));
    if (peers.length === 0) return null;
    return peers[this.nextPeer++ % peers.length];
  }

  private sleep(ms: number): Promise<void> {
    return this.sleeper.sleep(ms);
  }
}

/**
 * Checks blocks served for [start, end) against the root the oldest stored block names as its parent: newest
 * first, each block's root must be the expected one, and its parent the next expected. Returns them newest first.
 */
export function linkBackwards(
  config: BeaconConfig,
  blocks: SignedBeaconBlock[],
  start: number,
  end: number,
  expectedRoot: Uint8Array,
): { blocks: SignedBeaconBlock[] } | { error: string } {
  let expected = expectedRoot;
  let previousSlot = end;
  const out: SignedBeaconBlock[] = [];
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i];
    const slot = b.message.slot;
    if (slot < start || slot >= previousSlot) return { error: `block at slot ${slot} is outside [${start}, ${previousSlot}) or out of order` };
    const root = config.types.BeaconBlock.hashTreeRoot(b.message);
    if (!bytesEqual(root, expected)) {
      return { error: `block at slot ${slot} has root ${toHex(root)}, the chain needs ${toHex(expected)} there or below` };
    }
    out.push(b);
    expected = b.message.parentRoot;
    previousSlot = slot;
  }
  return { blocks: out };
}
