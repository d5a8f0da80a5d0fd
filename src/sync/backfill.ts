// Backfill: a checkpoint-synced node fills in the history before its anchor, back to genesis, from peers'
// beacon_blocks_by_range, while it follows the chain forward as usual. History below a trusted block needs no state
// transition: each block's root is what the next block's parent_root names, so one hash chain from the anchor down
// proves every block. Batches are stored as finalized (cold) blocks with the position, so a restart resumes.
//
// A request always reaches up to the oldest stored block (growing over empty ranges, up to MAX_REQUEST_BLOCKS), so
// whatever a peer serves must link to it: blocks that do not are that peer's fault, never an earlier peer's.
import type { BeaconConfig } from "../config/index.js";
import type { BeaconDb } from "../db/index.js";
import type { BackfillPosition } from "../db/schema.js";
import type { SignedBeaconBlock } from "../types/index.js";
import { bytesEqual, toHex } from "../util/bytes.js";
import { nullLogger, type Logger } from "../util/logger.js";
import type { SyncFetcher, SyncPeers } from "./rangeSync.js";

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
  /** the oldest slot with history stored */
  slot: number;
  blocks: number;
  blocksPerSecond: number;
  complete: boolean;
}

export class BackfillSync {
  blocksStored = 0;
  private stopped = true;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private position: BackfillPosition | null = null;
  private startedAt = 0;
  private nextPeer = 0;
  private loggedAt = 0;
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
    this.wake?.();
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
      slot: this.position?.slot ?? 0,
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
    let span = this.batchSlots;
    const failed = new Set<string>();
    while (!this.stopped && !this.position.complete) {
      const pos = this.position;
      const end = pos.slot; // exclusive: the oldest stored block
      const start = Math.max(0, end - span);
      const peer = this.pickPeer(failed);
      if (peer === null) {
        failed.clear();
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
      const linked = linkBackwards(this.o.config, blocks, start, end, pos.parentRoot);
      if ("error" in linked) {
        failed.add(peer);
        this.logger.warn("peer served unlinked history", { peer, startSlot: start, error: linked.error });
        this.o.peers.reportPeer(peer, "lowTolerance", `backfill: ${linked.error}`);
        continue;
      }
      if (linked.blocks.length === 0) {
        if (start > 0) {
          // nothing between: an empty range, or a peer without it; the next request reaches further down to the same block
          span = Math.min(span + this.batchSlots, MAX_REQUEST_BLOCKS);
          if (span === MAX_REQUEST_BLOCKS && end - start === MAX_REQUEST_BLOCKS) await this.skipEmpty(start);
          continue;
        }
        // nothing at all down to slot 0: a peer without the history, unless the missing parent is genesis itself
        if (pos.genesisBlockRoot !== null) {
          failed.add(peer);
          continue;
        }
      }
      await this.store(linked.blocks, start);
      span = this.batchSlots;
      failed.clear();
    }
  }

  /** 1024 empty slots below the oldest block: move the position's slot down (the parent it waits for is unchanged). */
  private async skipEmpty(start: number): Promise<void> {
    const pos = { ...this.position!, slot: start };
    await this.o.db.putMeta("backfill", pos);
    this.position = pos;
  }

  /** Stores linked blocks (oldest last) with the new position, in one batch. */
  private async store(blocks: SignedBeaconBlock[], start: number): Promise<void> {
    const c = this.o.config;
    const pos = this.position!;
    const oldest = blocks.length > 0 ? blocks[blocks.length - 1] : null;
    const parentRoot = oldest ? oldest.message.parentRoot : pos.parentRoot;
    const slot = oldest ? oldest.message.slot : pos.slot;
    // genesis: its root is what the next parent is, or the genesis block itself was served (slot 0)
    let complete = oldest?.message.slot === 0 || (pos.genesisBlockRoot !== null && bytesEqual(parentRoot, pos.genesisBlockRoot));
    if (!complete && start === 0 && pos.genesisBlockRoot === null) {
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

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = null;
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
