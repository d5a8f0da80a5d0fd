// The spec's get_head (v0.12.3), written out literally over a plain store: a slow reference for tests and harness
// checks of the proto-array (ForkChoice.toSpecStore gives its input). O(blocks^2 * validators); never use it to
// follow a chain.
import { GENESIS_EPOCH } from "../params/index.js";
import type { CheckpointHex, RootHex } from "./protoArray.js";

export interface SpecBlock {
  slot: number;
  parentRoot: RootHex;
  /** The block's post-state current_justified_checkpoint and finalized_checkpoint. */
  justifiedCheckpoint: CheckpointHex;
  finalizedCheckpoint: CheckpointHex;
}

export interface SpecStore {
  slotsPerEpoch: number;
  justifiedCheckpoint: CheckpointHex;
  finalizedCheckpoint: CheckpointHex;
  blocks: ReadonlyMap<RootHex, SpecBlock>;
  latestMessages: ReadonlyMap<number, { epoch: number; root: RootHex }>;
  /** Effective balance of each validator of the justified checkpoint state, 0 when not active. */
  justifiedBalances: ArrayLike<number>;
}

function getBlock(store: SpecStore, root: RootHex): SpecBlock {
  const block = store.blocks.get(root);
  if (!block) throw new Error(`spec store: unknown block ${root}`);
  return block;
}

export function specGetAncestor(store: SpecStore, root: RootHex, slot: number): RootHex {
  const block = getBlock(store, root);
  if (block.slot > slot) return specGetAncestor(store, block.parentRoot, slot);
  // Equal: the block itself; earlier: a skipped slot, whose most recent block is this one.
  return root;
}

export function specGetLatestAttestingBalance(store: SpecStore, root: RootHex): number {
  const slot = getBlock(store, root).slot;
  let total = 0;
  for (let i = 0; i < store.justifiedBalances.length; i++) {
    const message = store.latestMessages.get(i);
    if (message && specGetAncestor(store, message.root, slot) === root) total += store.justifiedBalances[i];
  }
  return total;
}

function sameCheckpoint(a: CheckpointHex, b: CheckpointHex): boolean {
  return a.epoch === b.epoch && a.root === b.root;
}

export function specFilterBlockTree(store: SpecStore, blockRoot: RootHex, blocks: Map<RootHex, SpecBlock>): boolean {
  const block = getBlock(store, blockRoot);
  const children = [...store.blocks.keys()].filter((root) => getBlock(store, root).parentRoot === blockRoot);

  if (children.length > 0) {
    const results = children.map((child) => specFilterBlockTree(store, child, blocks));
    if (results.some((r) => r)) {
      blocks.set(blockRoot, block);
      return true;
    }
    return false;
  }

  const correctJustified =
    store.justifiedCheckpoint.epoch === GENESIS_EPOCH || sameCheckpoint(block.justifiedCheckpoint, store.justifiedCheckpoint);
  const correctFinalized =
    store.finalizedCheckpoint.epoch === GENESIS_EPOCH || sameCheckpoint(block.finalizedCheckpoint, store.finalizedCheckpoint);
  if (correctJustified && correctFinalized) {
    blocks.set(blockRoot, block);
    return true;
  }
  return false;
}

export function specGetFilteredBlockTree(store: SpecStore): Map<RootHex, SpecBlock> {
  const blocks = new Map<RootHex, SpecBlock>();
  specFilterBlockTree(store, store.justifiedCheckpoint.root, blocks);
  return blocks;
}

export function specGetHead(store: SpecStore): RootHex {
  const blocks = specGetFilteredBlockTree(store);
  let head = store.justifiedCheckpoint.root;
  const justifiedSlot = store.justifiedCheckpoint.epoch * store.slotsPerEpoch;
  for (;;) {
    const children = [...blocks.entries()]
      .filter(([, block]) => block.parentRoot === head && block.slot > justifiedSlot)
      .map(([root]) => root);
    if (children.length === 0) return head;
    // max by (latest attesting balance, root)
    let best = children[0];
    let bestWeight = specGetLatestAttestingBalance(store, best);
    for (const root of children.slice(1)) {
      const weight = specGetLatestAttestingBalance(store, root);
      if (weight > bestWeight || (weight === bestWeight && root > best)) {
        best = root;
        bestWeight = weight;
      }
    }
    head = best;
  }
}
