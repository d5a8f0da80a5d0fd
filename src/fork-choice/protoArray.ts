// Proto-array: the block tree as a flat array in insertion order, so that a parent always sits before its children.
// One backwards pass over the array then sees every child before its parent: it propagates weight changes upwards
// and picks each node's best child, and the head is the justified node's stored best descendant (O(1)).
//
// The viability rule is the spec's filter_block_tree exactly: a leaf is viable when its post-state justified and
// finalized checkpoints equal the store's (or the store's are at GENESIS_EPOCH); an inner node is kept when one of
// its children is. get_head's `slot > justified_slot` filter is applied when choosing a best child.
import { GENESIS_EPOCH } from "../params/index.js";
import { ForkChoiceError } from "./errors.js";

/** A block root as lowercase 0x-prefixed hex. All roots share this format, so string order is byte order. */
export type RootHex = string;

export interface CheckpointHex {
  epoch: number;
  root: RootHex;
}

/** What fork choice keeps of a block: its place in the tree and its post-state checkpoints. */
export interface BlockSummary {
  slot: number;
  root: RootHex;
  parentRoot: RootHex;
  stateRoot: RootHex;
  /** Root of the checkpoint block of the block's epoch (the block itself at an epoch's first slot). */
  targetRoot: RootHex;
  /** state.current_justified_checkpoint of the block's post-state. */
  justifiedCheckpoint: CheckpointHex;
  /** state.finalized_checkpoint of the block's post-state. */
  finalizedCheckpoint: CheckpointHex;
}

export interface ProtoNode extends BlockSummary {
  /** Index of the parent node, or NONE when the parent is not in the array (the anchor, or pruned). */
  parent: number;
  /** Sum of the justified balances of every latest message at this node or below, as of the last score update. */
  weight: number;
  bestChild: number;
  bestDescendant: number;
  /** filter_block_tree(node): a viable leaf, or an inner node with such a leaf below it. */
  leadsToViableHead: boolean;
}

export const NONE = -1;

export interface ProtoArrayOpts {
  slotsPerEpoch: number;
  /** Prune once at least this many nodes are prunable (not descending from the finalized root); 0 = always. */
  pruneThreshold?: number;
}

export const DEFAULT_PRUNE_THRESHOLD = 256;

export interface PruneResult {
  pruned: number;
  /** Old index -> new index, NONE for removed nodes; for remapping anything that stores node indices (votes). */
  newIndexOf: Int32Array;
}

export class ProtoArray {
  readonly nodes: ProtoNode[] = [];
  readonly indices = new Map<RootHex, number>();
  private readonly slotsPerEpoch: number;
  private readonly pruneThreshold: number;
  /** Nodes were added since the last applyScoreChanges: best children/descendants are out of date. */
  private stale = false;
  /**
   * Per node: its depth (ancestors in the array) and a skip pointer, an ancestor at depth skipDepth(depth). Ancestor
   * walks (get_ancestor, is-descendant) then take O(log n) steps: one step per block cost ~1 ms a block through a
   * 1000-epoch non-finality (32,000 nodes, walked on every block to check it descends from the finalized root).
   */
  private readonly depths: number[] = [];
  private readonly skips: number[] = [];
  /** applyScoreChanges' working arrays, reused (typed arrays of n each call kept the GC busy at 32,000 nodes) */
  private scratch = { capacity: 0, pending: new Float64Array(0), bestChild: new Int32Array(0), hasChild: new Uint8Array(0), hasViableChild: new Uint8Array(0) };

  constructor(opts: ProtoArrayOpts, anchor: BlockSummary) {
    this.slotsPerEpoch = opts.slotsPerEpoch;
    this.pruneThreshold = opts.pruneThreshold ?? DEFAULT_PRUNE_THRESHOLD;
    this.insert(anchor, NONE);
  }

  get length(): number {
    return this.nodes.length;
  }

  hasBlock(root: RootHex): boolean {
    return this.indices.has(root);
  }

  getIndex(root: RootHex): number | undefined {
    return this.indices.get(root);
  }

  getNode(root: RootHex): ProtoNode | undefined {
    const i = this.indices.get(root);
    return i === undefined ? undefined : this.nodes[i];
  }

  /**
   * Adds a block whose parent is known. A block already present is left as it is (importing it again is a no-op,
   * as in the spec where on_block of a known block re-stores the same block).
   */
  onBlock(block: BlockSummary): void {
    if (this.indices.has(block.root)) return;
    const parent = this.indices.get(block.parentRoot);
    if (parent === undefined) {
      throw new ForkChoiceError({ code: "UNKNOWN_PARENT", root: block.root, parentRoot: block.parentRoot });
    }
    const parentSlot = this.nodes[parent].slot;
    // The state transition guarantees it; the single backwards pass and get_head's slot filter rely on it.
    if (block.slot <= parentSlot) {
      throw new ForkChoiceError({ code: "INVALID_BLOCK_SLOT", root: block.root, slot: block.slot, parentSlot });
    }
    this.insert(block, parent);
  }

  private insert(block: BlockSummary, parent: number): void {
    const index = this.nodes.length;
    this.nodes.push({
      slot: block.slot,
      root: block.root,
      parentRoot: block.parentRoot,
      stateRoot: block.stateRoot,
      targetRoot: block.targetRoot,
      justifiedCheckpoint: { ...block.justifiedCheckpoint },
      finalizedCheckpoint: { ...block.finalizedCheckpoint },
      parent,
      weight: 0,
      bestChild: NONE,
      bestDescendant: NONE,
      leadsToViableHead: false,
    });
    this.indices.set(block.root, index);
    this.setDepthAndSkip(index, parent);
    this.stale = true;
  }

  private setDepthAndSkip(i: number, parent: number): void {
    if (parent === NONE) {
      this.depths[i] = 0;
      this.skips[i] = NONE;
      return;
    }
    const depth = this.depths[parent] + 1;
    this.depths[i] = depth;
    this.skips[i] = this.ancestorAtDepth(parent, skipDepth(depth));
  }

  /** The ancestor of node i (or i itself) at `depth`, at most depths[i]; NONE when the walk leaves the array. */
  private ancestorAtDepth(i: number, depth: number): number {
    while (i !== NONE && this.depths[i] > depth) {
      const skip = this.skips[i];
      i = skip !== NONE && this.depths[skip] >= depth ? skip : this.nodes[i].parent;
    }
    return i;
  }

  /**
   * Adds `deltas[i]` to node i and to all its ancestors, then recomputes every node's best child and best
   * descendant for the store's justified and finalized checkpoints. One backwards pass: when node i is reached, all
   * its children (higher indices) have been finalized and have offered themselves as its best child.
   */
  applyScoreChanges(deltas: ArrayLike<number>, justified: CheckpointHex, finalized: CheckpointHex): void {
    const n = this.nodes.length;
    if (deltas.length !== n) {
      throw new ForkChoiceError({ code: "INVALID_DELTAS_LENGTH", deltas: deltas.length, nodes: n });
    }
    if (this.scratch.capacity < n) {
      const capacity = grownCapacity(n);
      this.scratch = { capacity, pending: new Float64Array(capacity), bestChild: new Int32Array(capacity), hasChild: new Uint8Array(capacity), hasViableChild: new Uint8Array(capacity) };
    }
    const { pending, bestChild, hasChild, hasViableChild } = this.scratch;
    pending.set(deltas); // accumulates children's deltas; the caller's array is left as is
    bestChild.fill(NONE, 0, n);
    hasChild.fill(0, 0, n);
    hasViableChild.fill(0, 0, n);
    const justifiedSlot = justified.epoch * this.slotsPerEpoch;
    const anyJustified = justified.epoch === GENESIS_EPOCH;
    const anyFinalized = finalized.epoch === GENESIS_EPOCH;

    for (let i = n - 1; i >= 0; i--) {
      const node = this.nodes[i];
      const weight = node.weight + pending[i];
      if (weight < 0) throw new ForkChoiceError({ code: "NEGATIVE_WEIGHT", root: node.root, weight });
      node.weight = weight;

      node.bestChild = bestChild[i];
      node.bestDescendant = node.bestChild === NONE ? i : this.nodes[node.bestChild].bestDescendant;
      node.leadsToViableHead = hasChild[i]
        ? hasViableChild[i] === 1
        : (anyJustified || sameCheckpoint(node.justifiedCheckpoint, justified)) &&
          (anyFinalized || sameCheckpoint(node.finalizedCheckpoint, finalized));

      const p = node.parent;
      if (p === NONE) continue;
      pending[p] += pending[i];
      hasChild[p] = 1;
      if (!node.leadsToViableHead) continue;
      hasViableChild[p] = 1;
      // get_head: children at or before the justified epoch's start slot are never walked into.
      if (node.slot <= justifiedSlot) continue;
      const best = bestChild[p];
      if (best === NONE || isHeavier(node, this.nodes[best])) bestChild[p] = i;
    }
    this.stale = false;
  }

  /** get_head from the justified root, as of the last applyScoreChanges. */
  findHead(justifiedRoot: RootHex): RootHex {
    if (this.stale) throw new ForkChoiceError({ code: "STALE_SCORES" });
    const i = this.indices.get(justifiedRoot);
    if (i === undefined) throw new ForkChoiceError({ code: "UNKNOWN_JUSTIFIED_ROOT", root: justifiedRoot });
    return this.nodes[this.nodes[i].bestDescendant].root;
  }

  /** get_ancestor: the root at `slot` on the chain of `root` (the latest block at or before it, for skipped slots). */
  getAncestor(root: RootHex, slot: number): RootHex | undefined {
    const start = this.indices.get(root);
    if (start === undefined) return undefined;
    let i = start;
    while (this.nodes[i].slot > slot) {
      // slots fall along the walk: a skip that lands above `slot` cannot pass the answer
      const skip = this.skips[i];
      i = skip !== NONE && this.nodes[skip].slot > slot ? skip : this.nodes[i].parent;
      if (i === NONE) return undefined; // below the anchor or the pruned part: unknown
    }
    return this.nodes[i].root;
  }

  /** True when `root` is `ancestorRoot` or below it. */
  isDescendant(ancestorRoot: RootHex, root: RootHex): boolean {
    const a = this.indices.get(ancestorRoot);
    const i = this.indices.get(root);
    if (a === undefined || i === undefined || i < a) return false;
    return this.ancestorAtDepth(i, this.depths[a]) === a;
  }

  /**
   * Removes every node that does not descend from `finalizedRoot` (its ancestors and the branches conflicting with
   * it), once at least `pruneThreshold` nodes would go. Returns null when nothing was pruned.
   */
  maybePrune(finalizedRoot: RootHex): PruneResult | null {
    const f = this.indices.get(finalizedRoot);
    if (f === undefined) throw new ForkChoiceError({ code: "UNKNOWN_FINALIZED_ROOT", root: finalizedRoot });
    const n = this.nodes.length;
    // Descendants of f have higher indices, and a node is kept when its parent is.
    const newIndexOf = new Int32Array(n).fill(NONE);
    newIndexOf[f] = 0;
    let kept = 1;
    for (let i = f + 1; i < n; i++) {
      const p = this.nodes[i].parent;
      if (p !== NONE && newIndexOf[p] !== NONE) newIndexOf[i] = kept++;
    }
    const pruned = n - kept;
    if (pruned === 0 || pruned < this.pruneThreshold) return null;

    const remap = (i: number): number => (i === NONE ? NONE : newIndexOf[i]);
    const nodes: ProtoNode[] = [];
    for (let i = f; i < n; i++) {
      if (newIndexOf[i] === NONE) {
        this.indices.delete(this.nodes[i].root);
        continue;
      }
      const node = this.nodes[i];
      node.parent = i === f ? NONE : newIndexOf[node.parent];
      node.bestChild = remap(node.bestChild);
      node.bestDescendant = remap(node.bestDescendant);
      this.indices.set(node.root, nodes.length);
      nodes.push(node);
    }
    for (let i = 0; i < f; i++) this.indices.delete(this.nodes[i].root);
    this.nodes.length = 0;
    for (const node of nodes) this.nodes.push(node);
    this.depths.length = 0;
    this.skips.length = 0;
    for (let i = 0; i < this.nodes.length; i++) this.setDepthAndSkip(i, this.nodes[i].parent);
    return { pruned, newIndexOf };
  }
}

/** Capacity of a working buffer reused across calls that must now hold n entries (room to grow without reallocating each block). */
export function grownCapacity(n: number): number {
  return Math.max(64, Math.ceil(n * 1.5));
}

/**
 * The depth a node's skip pointer goes to: any depth below its own works; this choice (the one of Bitcoin's block
 * index) mixes long and short jumps so that a walk to any ancestor takes O(log n) steps.
 */
export function skipDepth(depth: number): number {
  if (depth < 2) return 0;
  const clearLowestBit = (x: number) => x & (x - 1);
  return depth & 1 ? clearLowestBit(clearLowestBit(depth - 1)) + 1 : clearLowestBit(depth);
}

function sameCheckpoint(a: CheckpointHex, b: CheckpointHex): boolean {
  return a.epoch === b.epoch && a.root === b.root;
}

/** The spec's max by (weight, root): the heavier node, ties to the lexicographically higher root. */
function isHeavier(a: ProtoNode, b: ProtoNode): boolean {
  return a.weight !== b.weight ? a.weight > b.weight : a.root > b.root;
}
