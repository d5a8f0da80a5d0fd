// Parent lookup: a block from gossip whose parent is unknown is held by the chain's pending pool; this asks peers
// for the missing ancestors by root (beacon_blocks_by_root), walking back up to `maxDepth` blocks, then imports
// them oldest first (the pending children follow on their own). Deeper gaps are range sync's job.
import type { BeaconChain } from "../chain/chain.js";
import { BlockError } from "../chain/blocks/errors.js";
import type { BeaconConfig } from "../config/index.js";
import { fromHex, toHex } from "../util/bytes.js";
import type { Logger } from "../util/logger.js";
import type { SignedBeaconBlock } from "../types/index.js";
import type { SyncFetcher, SyncPeers } from "./rangeSync.js";

export interface UnknownBlockSyncOptions {
  config: BeaconConfig;
  chain: BeaconChain;
  peers: SyncPeers;
  fetcher: SyncFetcher;
  logger?: Logger;
  maxDepth?: number;
  /** lookups at once (default 2) */
  maxConcurrent?: number;
}

export class UnknownBlockSync {
  private readonly inFlight = new Set<string>();
  /** roots no peer could serve recently: not asked again for a while */
  private readonly failed = new Map<string, number>();
  lookups = 0;
  imported = 0;

  constructor(private readonly o: UnknownBlockSyncOptions) {}

  /** `block` arrived and its parent is unknown: look the parent chain up (deduplicated, bounded). */
  onUnknownParent(block: SignedBeaconBlock): void {
    // the block itself waits in the chain's pending pool and is imported as soon as its parent is
    void this.o.chain.processBlock({ signed: block, source: "lookup" }).catch(() => undefined);
    const parent = toHex(block.message.parentRoot);
    if (this.inFlight.has(parent) || this.inFlight.size >= (this.o.maxConcurrent ?? 2)) return;
    const failedAt = this.failed.get(parent);
    if (failedAt !== undefined && Date.now() - failedAt < 30_000) return;
    this.inFlight.add(parent);
    this.lookups++;
    void this.lookup(parent)
      .catch((e: unknown) => {
        this.failed.set(parent, Date.now());
        this.o.logger?.debug("parent lookup failed", { root: parent, error: (e as Error).message });
      })
      .finally(() => this.inFlight.delete(parent));
    if (this.failed.size > 1024) this.failed.clear();
  }

  private async lookup(root: string): Promise<void> {
    const chain = this.o.chain;
    const maxDepth = this.o.maxDepth ?? this.o.config.SLOTS_PER_EPOCH * 2;
    const fetched: SignedBeaconBlock[] = [];
    let want = root;
    for (let depth = 0; depth < maxDepth && !chain.query.hasBlock(want); depth++) {
      const block = await this.fetchOne(want);
      fetched.push(block);
      want = toHex(block.message.parentRoot);
    }
    if (!chain.query.hasBlock(want)) throw new Error(`no known ancestor within ${maxDepth} blocks of ${root}`);
    for (const block of fetched.reverse()) {
      try {
        await chain.processBlock({ signed: block, source: "lookup" });
        this.imported++;
      } catch (e) {
        if (e instanceof BlockError && e.code === "ALREADY_KNOWN") continue;
        throw e;
      }
    }
  }

  private async fetchOne(rootHex: string): Promise<SignedBeaconBlock> {
    const root = fromHex(rootHex);
    const peers = [...this.o.peers.getPeerStatuses().keys()];
    // shuffle so one slow peer is not asked first every time
    for (let i = peers.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [peers[i], peers[j]] = [peers[j], peers[i]];
    }
    for (const peer of peers.slice(0, 3)) {
      try {
        const [block] = await this.o.fetcher.beaconBlocksByRoot(peer, [root]);
        if (block && toHex(this.o.config.types.BeaconBlock.hashTreeRoot(block.message)) === rootHex) return block;
      } catch {
        // next peer
      }
    }
    throw new Error(`no peer served block ${rootHex}`);
  }
}
