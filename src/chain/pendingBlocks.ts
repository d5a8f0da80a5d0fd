import type { SignedBeaconBlock } from "../types/index.js";

interface Pending {
  block: SignedBeaconBlock;
  rootHex: string;
  parentHex: string;
}

/**
 * Blocks whose parent is not known yet, held until the parent arrives. Bounded: the oldest entry goes first, so a
 * peer sending orphans cannot grow memory.
 */
export class PendingBlocks {
  private readonly byRoot = new Map<string, Pending>();

  constructor(readonly maxSize: number) {}

  get size(): number {
    return this.byRoot.size;
  }

  add(block: SignedBeaconBlock, rootHex: string, parentHex: string): void {
    if (this.byRoot.has(rootHex)) return;
    this.byRoot.set(rootHex, { block, rootHex, parentHex });
    while (this.byRoot.size > this.maxSize) this.byRoot.delete(this.byRoot.keys().next().value as string);
  }

  /** Remove and return the blocks waiting for `parentHex`. */
  takeChildren(parentHex: string): SignedBeaconBlock[] {
    const out: SignedBeaconBlock[] = [];
    for (const [root, p] of this.byRoot) {
      if (p.parentHex === parentHex) {
        out.push(p.block);
        this.byRoot.delete(root);
      }
    }
    return out;
  }

  has(rootHex: string): boolean {
    return this.byRoot.has(rootHex);
  }

  /** Drop blocks at or below the finalized slot: they can never be imported. */
  pruneFinalized(finalizedSlot: number): void {
    for (const [root, p] of this.byRoot) if (p.block.message.slot <= finalizedSlot) this.byRoot.delete(root);
  }
}
