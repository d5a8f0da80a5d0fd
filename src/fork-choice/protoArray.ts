// Proto-array: the block tree as a flat array in insertion order, so that a parent always sits before its children.
// A backwards pass over the array then sees every child before its parent: it propagates weight changes upwards and
// picks each node's best child, and the head is found by following best children from the justified node.
//
// The pass visits only what changed: nodes with a weight change, new nodes, and parents of nodes whose weight or
// viability changed. Votes moving between recent blocks cancel out above their common ancestor, so a head update
// costs what changed near the tip, not the length of the unfinalized chain (32,000 nodes after 1000 epochs without
// finality, where a pass over every node cost ~1 ms a block and grew with the chain). A change of the store's
// justified or finalized checkpoint changes every leaf's viability: that pass visits every node. The walk down to the
// head is remembered, and the next one starts below the nodes the passes since have left alone.
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
  readonly parent: number;
  /** Sum of the justified balances of every latest message at this node or below, as of the last score update. */
  readonly weight: number;
  readonly bestChild: number;
  /** The head below this node: best children followed down to a node without one */
  readonly bestDescendant: number;
  /** filter_block_tree(node): a viable leaf, or an inner node with such a leaf below it. */
  readonly leadsToViableHead: boolean;
}

/** The per-node numbers, one typed array each, indexed like `nodes`: what the score pass and the walks read. */
class NodeColumns {
  capacity = 0;
  parent = new Int32Array(0);
  /** Children as a list: the first child, then each child's next sibling (NONE ends a list) */
  firstChild = new Int32Array(0);
  nextSibling = new Int32Array(0);
  slot = new Float64Array(0);
  weight = new Float64Array(0);
  bestChild = new Int32Array(0);
  viable = new Uint8Array(0);
  /**
   * Its depth (ancestors in the array) and a skip pointer, an ancestor at depth skipDepth(depth) or NONE. Ancestor
   * walks (get_ancestor, is-descendant) then take O(log n) steps: one step per block cost ~1 ms a block through a
   * 1000-epoch non-finality (32,000 nodes, walked on every block to check it descends from the finalized root).
   */
  depth = new Int32Array(0);
  skip = new Int32Array(0);

  ensure(n: number): void {
    if (n <= this.capacity) return;
    const capacity = grownCapacity(n);
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (c: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.parent = grow(this.parent, (c) => new Int32Array(c));
    this.firstChild = grow(this.firstChild, (c) => new Int32Array(c));
    this.nextSibling = grow(this.nextSibling, (c) => new Int32Array(c));
    this.slot = grow(this.slot, (c) => new Float64Array(c));
    this.weight = grow(this.weight, (c) => new Float64Array(c));
    this.bestChild = grow(this.bestChild, (c) => new Int32Array(c));
    this.viable = grow(this.viable, (c) => new Uint8Array(c));
    this.depth = grow(this.depth, (c) => new Int32Array(c));
    this.skip = grow(this.skip, (c) => new Int32Array(c));
    this.capacity = capacity;
  }

  /** Moves node `from` to index `to` (to <= from), as pruning compacts the array; child lists are rebuilt after. */
  move(from: number, to: number): void {
    this.parent[to] = this.parent[from];
    this.slot[to] = this.slot[from];
    this.weight[to] = this.weight[from];
    this.bestChild[to] = this.bestChild[from];
    this.viable[to] = this.viable[from];
  }

  /** The node reached from i by following best children */
  bestDescendantOf(i: number): number {
    for (let best = this.bestChild[i]; best !== NONE; best = this.bestChild[i]) i = best;
    return i;
  }
}

/** A node as callers see it: the block's summary, with its numbers read from the columns at its current index. */
class ProtoNodeView implements ProtoNode {
  readonly slot: number;
  readonly root: RootHex;
  readonly parentRoot: RootHex;
  readonly stateRoot: RootHex;
  readonly targetRoot: RootHex;
  readonly justifiedCheckpoint: CheckpointHex;
  readonly finalizedCheckpoint: CheckpointHex;

  constructor(
    private readonly columns: NodeColumns,
    /** Its index in the array; changed by pruning */
    public index: number,
    block: BlockSummary,
  ) {
    this.slot = block.slot;
    this.root = block.root;
    this.parentRoot = block.parentRoot;
    this.stateRoot = block.stateRoot;
    this.targetRoot = block.targetRoot;
    this.justifiedCheckpoint = { ...block.justifiedCheckpoint };
    this.finalizedCheckpoint = { ...block.finalizedCheckpoint };
  }
  get parent(): number {
    return this.columns.parent[this.index];
  }
  get weight(): number {
    return this.columns.weight[this.index];
  }
  get bestChild(): number {
    return this.columns.bestChild[this.index];
  }
  get bestDescendant(): number {
    return this.columns.bestDescendantOf(this.index);
  }
  get leadsToViableHead(): boolean {
    return this.columns.viable[this.index] === 1;
  }
  toJSON(): Omit<ProtoNode, never> {
    const { slot, root, parentRoot, stateRoot, targetRoot, justifiedCheckpoint, finalizedCheckpoint } = this;
    return { slot, root, parentRoot, stateRoot, targetRoot, justifiedCheckpoint, finalizedCheckpoint, parent: this.parent, weight: this.weight, bestChild: this.bestChild, bestDescendant: this.bestDescendant, leadsToViableHead: this.leadsToViableHead };
  }
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
  readonly nodes: ProtoNodeView[] = [];
  private readonly columns = new NodeColumns();
  readonly indices = new Map<RootHex, number>();
  private readonly slotsPerEpoch: number;
  private readonly pruneThreshold: number;
  /** Nodes were added since the last applyScoreChanges: best children are out of date. */
  private stale = false;
  /** The first node added since the last applyScoreChanges (the length when none) */
  private firstNew = 0;
  /** The checkpoints of the last completed applyScoreChanges; null: the next one visits every node */
  private lastCheckpoints: { justified: CheckpointHex; finalized: CheckpointHex } | null = null;
  /**
   * applyScoreChanges' working arrays, reused (typed arrays of n each call kept the GC busy at 32,000 nodes), and
   * all zero between calls: each pass clears what it used, so that a pass near the tip costs nothing per node.
   */
  private scratch = { capacity: 0, pending: new Float64Array(0), dirty: new Uint8Array(0) };
  /**
   * The last walk from the justified node down to the head (indices increase along it), and the lowest index the
   * passes since may have changed: the walk's nodes below it still have the same best child. Walking all of it
   * anew was ~50 µs a block at 32,000 nodes.
   */
  private headPath = { nodes: new Int32Array(0), length: 0, changedFrom: 0 };

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
    const parentSlot = this.columns.slot[parent];
    // The state transition guarantees it; the single backwards pass and get_head's slot filter rely on it.
    if (block.slot <= parentSlot) {
      throw new ForkChoiceError({ code: "INVALID_BLOCK_SLOT", root: block.root, slot: block.slot, parentSlot });
    }
    this.insert(block, parent);
  }

  private insert(block: BlockSummary, parent: number): void {
    const index = this.nodes.length;
    const c = this.columns;
    c.ensure(index + 1);
    c.parent[index] = parent;
    c.firstChild[index] = NONE;
    c.nextSibling[index] = NONE;
    if (parent !== NONE) {
      c.nextSibling[index] = c.firstChild[parent];
      c.firstChild[parent] = index;
    }
    c.slot[index] = block.slot;
    c.weight[index] = 0;
    c.bestChild[index] = NONE;
    c.viable[index] = 0;
    this.nodes.push(new ProtoNodeView(c, index, block));
    this.indices.set(block.root, index);
    this.setDepthAndSkip(index, parent);
    if (!this.stale) this.firstNew = index;
    this.stale = true;
  }

  private setDepthAndSkip(i: number, parent: number): void {
    const c = this.columns;
    if (parent === NONE) {
      c.depth[i] = 0;
      c.skip[i] = NONE;
      return;
    }
    const depth = c.depth[parent] + 1;
    c.depth[i] = depth;
    c.skip[i] = this.ancestorAtDepth(parent, skipDepth(depth));
  }

  /** The ancestor of node i (or i itself) at `depth`, at most depths[i]; NONE when the walk leaves the array. */
  private ancestorAtDepth(i: number, depth: number): number {
    const c = this.columns;
    while (i !== NONE && c.depth[i] > depth) {
      const skip = c.skip[i];
      i = skip !== NONE && c.depth[skip] >= depth ? skip : c.parent[i];
    }
    return i;
  }

  /**
   * Adds `deltas[i]` to node i and to all its ancestors, then brings each node's best child and viability up to date
   * for the store's justified and finalized checkpoints. One backwards pass over the nodes that changed: when node i
   * is reached, its children (higher indices) are final, and its best child is chosen among all of them.
   */
  applyScoreChanges(
    deltas: ArrayLike<number>,
    justified: CheckpointHex,
    finalized: CheckpointHex,
    /** every delta below this index is 0 (addDeltas' result), which spares a scan of all of them */
    lowestDelta?: number,
  ): void {
    const n = this.nodes.length;
    if (deltas.length !== n) {
      throw new ForkChoiceError({ code: "INVALID_DELTAS_LENGTH", deltas: deltas.length, nodes: n });
    }
    if (this.scratch.capacity < n) {
      const capacity = grownCapacity(n);
      this.scratch = { capacity, pending: new Float64Array(capacity), dirty: new Uint8Array(capacity) };
    }
    const { pending, dirty } = this.scratch;
    const last = this.lastCheckpoints;
    const visitAll = last === null || !sameCheckpoint(last.justified, justified) || !sameCheckpoint(last.finalized, finalized);
    // Until the pass completes, a throw (NEGATIVE_WEIGHT) leaves nodes half done: no head is read from them, and the
    // next pass visits every node.
    const firstNew = this.stale ? this.firstNew : n;
    this.lastCheckpoints = null;
    this.stale = true;
    // Nodes below `lowest` have no change yet; it moves down as changes reach parents.
    let lowest = visitAll ? 0 : firstNew;
    if (lowestDelta !== undefined) {
      lowest = Math.max(0, Math.min(lowest, lowestDelta));
    } else {
      for (let i = 0; i < lowest; i++) {
        if (deltas[i] !== 0) {
          lowest = i;
          break;
        }
      }
    }
    // pending accumulates children's deltas (the caller's array is left as is); both arrays are 0 below `lowest`
    for (let i = lowest; i < n; i++) pending[i] = deltas[i];
    dirty.fill(1, visitAll ? 0 : firstNew, n);
    try {
      lowest = this.visitChanged(n, lowest, firstNew, justified, finalized);
    } catch (e) {
      pending.fill(0, 0, n);
      dirty.fill(0, 0, n);
      throw e;
    }
    pending.fill(0, lowest, n);
    dirty.fill(0, lowest, n);
    this.stale = false;
    this.firstNew = n;
    this.lastCheckpoints = { justified: { ...justified }, finalized: { ...finalized } };
    this.headPath.changedFrom = Math.min(this.headPath.changedFrom, lowest);
  }

  /**
   * The backwards pass of applyScoreChanges over the nodes from n - 1 down to `lowest` that are marked or carry a
   * delta. Returns the lowest index it reached (marks and deltas are only ever placed at or above it).
   */
  private visitChanged(n: number, lowest: number, firstNew: number, justified: CheckpointHex, finalized: CheckpointHex): number {
    const { pending, dirty } = this.scratch;

    const justifiedSlot = justified.epoch * this.slotsPerEpoch;
    const anyJustified = justified.epoch === GENESIS_EPOCH;
    const anyFinalized = finalized.epoch === GENESIS_EPOCH;
    const c = this.columns;
    const { parent: parents, firstChild, nextSibling, slot: slots, weight: weights, bestChild, viable } = c;
    for (let i = n - 1; i >= lowest; i--) {
      const delta = pending[i];
      if (dirty[i] === 0 && delta === 0) continue;
      const weight = weights[i] + delta;
      if (weight < 0) throw new ForkChoiceError({ code: "NEGATIVE_WEIGHT", root: this.nodes[i].root, weight });
      weights[i] = weight;

      // filter_block_tree: an inner node is viable when a child is; get_head never walks into a child at or before
      // the justified epoch's start slot.
      let best = NONE;
      let anyViable = false;
      for (let child = firstChild[i]; child !== NONE; child = nextSibling[child]) {
        if (viable[child] === 0) continue;
        anyViable = true;
        if (slots[child] <= justifiedSlot) continue;
        if (best === NONE || this.isHeavier(child, best)) best = child;
      }
      bestChild[i] = best;
      let leadsToViableHead = anyViable;
      if (firstChild[i] === NONE) {
        const node = this.nodes[i];
        leadsToViableHead =
          (anyJustified || sameCheckpoint(node.justifiedCheckpoint, justified)) &&
          (anyFinalized || sameCheckpoint(node.finalizedCheckpoint, finalized));
      }
      const viabilityChanged = viable[i] !== (leadsToViableHead ? 1 : 0);
      viable[i] = leadsToViableHead ? 1 : 0;

      // The parent's choice reads this node's weight and viability; a new node is a new candidate.
      const p = parents[i];
      if (p === NONE || (delta === 0 && !viabilityChanged && i < firstNew)) continue;
      pending[p] += delta;
      dirty[p] = 1;
      if (p < lowest) lowest = p;
    }
    return lowest;
  }

  /** The spec's max by (weight, root): node a is heavier than b, ties going to the lexicographically higher root. */
  private isHeavier(a: number, b: number): boolean {
    const w = this.columns.weight;
    return w[a] !== w[b] ? w[a] > w[b] : this.nodes[a].root > this.nodes[b].root;
  }

  /** get_head from the justified root, as of the last applyScoreChanges. */
  findHead(justifiedRoot: RootHex): RootHex {
    if (this.stale) throw new ForkChoiceError({ code: "STALE_SCORES" });
    const i = this.indices.get(justifiedRoot);
    if (i === undefined) throw new ForkChoiceError({ code: "UNKNOWN_JUSTIFIED_ROOT", root: justifiedRoot });
    const hp = this.headPath;
    if (hp.nodes.length < this.nodes.length) {
      const grown = new Int32Array(grownCapacity(this.nodes.length));
      grown.set(hp.nodes.subarray(0, hp.length));
      hp.nodes = grown;
    }
    const path = hp.nodes;
    let length = 0;
    if (hp.length > 0 && path[0] === i) {
      // keep the entries below changedFrom (binary search: indices increase along the walk)
      let lo = 0;
      let hi = hp.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (path[mid] < hp.changedFrom) lo = mid + 1;
        else hi = mid;
      }
      length = lo;
    }
    if (length === 0) path[length++] = i;
    const bestChild = this.columns.bestChild;
    let head = path[length - 1];
    for (let best = bestChild[head]; best !== NONE; best = bestChild[head]) {
      head = best;
      path[length++] = head;
    }
    hp.length = length;
    hp.changedFrom = this.nodes.length;
    return this.nodes[head].root;
  }

  /** get_ancestor: the root at `slot` on the chain of `root` (the latest block at or before it, for skipped slots). */
  getAncestor(root: RootHex, slot: number): RootHex | undefined {
    const start = this.indices.get(root);
    if (start === undefined) return undefined;
    const c = this.columns;
    let i = start;
    while (c.slot[i] > slot) {
      // slots fall along the walk: a skip that lands above `slot` cannot pass the answer
      const skip = c.skip[i];
      i = skip !== NONE && c.slot[skip] > slot ? skip : c.parent[i];
      if (i === NONE) return undefined; // below the anchor or the pruned part: unknown
    }
    return this.nodes[i].root;
  }

  /** True when `root` is `ancestorRoot` or below it. */
  isDescendant(ancestorRoot: RootHex, root: RootHex): boolean {
    const a = this.indices.get(ancestorRoot);
    const i = this.indices.get(root);
    if (a === undefined || i === undefined || i < a) return false;
    return this.ancestorAtDepth(i, this.columns.depth[a]) === a;
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
    const c = this.columns;
    for (let i = f + 1; i < n; i++) {
      const p = c.parent[i];
      if (p !== NONE && newIndexOf[p] !== NONE) newIndexOf[i] = kept++;
    }
    const pruned = n - kept;
    if (pruned === 0 || pruned < this.pruneThreshold) return null;

    const remap = (i: number): number => (i === NONE ? NONE : newIndexOf[i]);
    // New indices never exceed old ones: compacting in place, front to back, reads each node before overwriting it.
    const nodes: ProtoNodeView[] = [];
    for (let i = f; i < n; i++) {
      const to = newIndexOf[i];
      if (to === NONE) {
        this.indices.delete(this.nodes[i].root);
        continue;
      }
      const node = this.nodes[i];
      c.move(i, to);
      c.parent[to] = i === f ? NONE : newIndexOf[c.parent[to]];
      c.bestChild[to] = remap(c.bestChild[to]);
      node.index = to;
      this.indices.set(node.root, to);
      nodes.push(node);
    }
    for (let i = 0; i < f; i++) this.indices.delete(this.nodes[i].root);
    this.nodes.length = 0;
    for (const node of nodes) this.nodes.push(node);
    for (let i = 0; i < this.nodes.length; i++) {
      this.setDepthAndSkip(i, c.parent[i]);
      c.firstChild[i] = NONE;
    }
    for (let i = this.nodes.length - 1; i > 0; i--) {
      const p = c.parent[i];
      c.nextSibling[i] = c.firstChild[p];
      c.firstChild[p] = i;
    }
    c.nextSibling[0] = NONE;
    // Indices moved: the next pass visits every node, and the next walk to the head starts over.
    this.lastCheckpoints = null;
    this.headPath.length = 0;
    this.firstNew = Math.min(this.firstNew, this.nodes.length);
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

