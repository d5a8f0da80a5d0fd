// Proto-array and computeDeltas: scenarios written as op lists (like Lighthouse's fork choice test definitions),
// each head also checked against the literal spec get_head; then randomized trees against the same reference.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { addDeltas, computeDeltas, createVotes, ensureVote, remapVotes, type Votes } from "../../src/fork-choice/computeDeltas.js";
import { ForkChoiceError } from "../../src/fork-choice/errors.js";
import { NONE, ProtoArray, skipDepth, type BlockSummary, type CheckpointHex, type ProtoNode, type RootHex } from "../../src/fork-choice/protoArray.js";
import { specGetHead, type SpecBlock, type SpecStore } from "../../src/fork-choice/reference.js";
import { createPrng as prng } from "../../src/util/prng.js";
import { cp, root } from "../utils/forkChoice.js";

const SLOTS_PER_EPOCH = 8;
const GWEI = 1_000_000_000;

const GENESIS = root(0);
const GENESIS_CP = cp(0, 0);

// --- The op-list DSL ---------------------------------------------------------------------------------------------

type Op =
  | { op: "block"; slot: number; root: number; parent: number; justified?: CheckpointHex; finalized?: CheckpointHex }
  | { op: "vote"; validator: number; root: number; epoch: number }
  | { op: "head"; expect: number; balances: number[]; justified?: CheckpointHex; finalized?: CheckpointHex }
  | { op: "prune"; finalized: number; expectPruned: number | null }
  | { op: "check"; fn: (h: Harness) => void };

function summary(slot: number, r: RootHex, parent: RootHex, justified = GENESIS_CP, finalized = GENESIS_CP): BlockSummary {
  return { slot, root: r, parentRoot: parent, stateRoot: r, targetRoot: r, justifiedCheckpoint: justified, finalizedCheckpoint: finalized };
}

/** A proto-array with its votes, plus the full history the spec reference reads (never pruned). */
class Harness {
  readonly protoArray: ProtoArray;
  readonly votes: Votes = createVotes();
  readonly blocks = new Map<RootHex, SpecBlock>();
  readonly latestMessages = new Map<number, { epoch: number; root: RootHex }>();
  balances: number[] = [];

  constructor(pruneThreshold = 0, anchor = summary(0, GENESIS, root(0xffff))) {
    this.protoArray = new ProtoArray({ slotsPerEpoch: SLOTS_PER_EPOCH, pruneThreshold }, anchor);
    this.blocks.set(anchor.root, anchor);
  }

  addBlock(block: BlockSummary): void {
    this.protoArray.onBlock(block);
    this.blocks.set(block.root, block);
  }

  vote(validator: number, r: RootHex, epoch: number): void {
    ensureVote(this.votes, validator);
    if (epoch > this.votes.nextEpochs[validator]) {
      this.votes.nextIndices[validator] = this.protoArray.getIndex(r) ?? NONE;
      this.votes.nextEpochs[validator] = epoch;
      this.latestMessages.set(validator, { epoch, root: r });
    }
  }

  /** Deltas as ForkChoice makes them (a buffer kept zeroed, the lowest index touched handed on) instead of computeDeltas' */
  useLowestDelta = false;
  private deltasBuffer = new Float64Array(0);

  head(balances: number[], justified: CheckpointHex, finalized: CheckpointHex): RootHex {
    const n = this.protoArray.length;
    if (this.useLowestDelta) {
      if (this.deltasBuffer.length < n) this.deltasBuffer = new Float64Array(n * 2);
      const deltas = this.deltasBuffer.subarray(0, n);
      const lowest = addDeltas(deltas, this.votes, this.balances, balances);
      this.balances = balances;
      this.protoArray.applyScoreChanges(deltas, justified, finalized, lowest);
      deltas.fill(0, Math.min(lowest, n), n);
      assert.ok(this.deltasBuffer.every((d) => d === 0), "deltas below the lowest index reported were not all 0");
    } else {
      const deltas = computeDeltas(n, this.votes, this.balances, balances);
      this.balances = balances;
      this.protoArray.applyScoreChanges(deltas, justified, finalized);
    }
    return this.protoArray.findHead(justified.root);
  }

  specHead(balances: number[], justified: CheckpointHex, finalized: CheckpointHex): RootHex {
    const store: SpecStore = {
      slotsPerEpoch: SLOTS_PER_EPOCH,
      justifiedCheckpoint: justified,
      finalizedCheckpoint: finalized,
      blocks: this.blocks,
      latestMessages: this.latestMessages,
      justifiedBalances: balances,
    };
    return specGetHead(store);
  }

  /** Indices map, parent links and best child/descendant pointers agree with the node list. */
  checkConsistency(): void {
    const { nodes, indices } = this.protoArray;
    assert.equal(indices.size, nodes.length);
    nodes.forEach((node, i) => {
      assert.equal(indices.get(node.root), i, `index of ${node.root}`);
      if (node.parent !== NONE) {
        assert.ok(node.parent < i, "parent before child");
        assert.equal(nodes[node.parent].root, node.parentRoot);
      }
      if (node.bestChild !== NONE) assert.equal(nodes[node.bestChild].parent, i);
      if (node.bestDescendant !== NONE) assert.ok(this.protoArray.isDescendant(node.root, nodes[node.bestDescendant].root));
    });
    for (const c of this.votes.currentIndices) assert.ok(c >= NONE && c < nodes.length);
    for (const c of this.votes.nextIndices) assert.ok(c >= NONE && c < nodes.length);
  }
}

function run(ops: Op[], pruneThreshold = 0): Harness {
  const h = new Harness(pruneThreshold);
  ops.forEach((o, step) => {
    const where = `op ${step} (${o.op})`;
    switch (o.op) {
      case "block":
        h.addBlock(summary(o.slot, root(o.root), root(o.parent), o.justified, o.finalized));
        break;
      case "vote":
        h.vote(o.validator, root(o.root), o.epoch);
        break;
      case "head": {
        const justified = o.justified ?? GENESIS_CP;
        const finalized = o.finalized ?? GENESIS_CP;
        const specHead = h.specHead(o.balances, justified, finalized);
        assert.equal(specHead, root(o.expect), `${where}: the spec reference disagrees with the scenario`);
        assert.equal(h.head(o.balances, justified, finalized), root(o.expect), where);
        break;
      }
      case "prune": {
        const result = h.protoArray.maybePrune(root(o.finalized));
        assert.equal(result ? result.pruned : null, o.expectPruned, where);
        if (result) remapVotes(h.votes, result.newIndexOf);
        break;
      }
      case "check":
        o.fn(h);
        break;
    }
    h.checkConsistency();
  });
  return h;
}

const ones = (n: number, b = 1): number[] => new Array<number>(n).fill(b);

// --- Scenarios -----------------------------------------------------------------------------------------------

describe("proto-array scenarios", () => {
  test("no votes: the head is the highest root among equal-weight branches, then follows the chain", () => {
    run([
      { op: "head", expect: 0, balances: [] },
      { op: "block", slot: 1, root: 2, parent: 0 },
      { op: "head", expect: 2, balances: [] },
      { op: "block", slot: 1, root: 1, parent: 0 },
      { op: "head", expect: 2, balances: [] },
      { op: "block", slot: 2, root: 3, parent: 1 },
      { op: "head", expect: 2, balances: [] }, // tie at the first level is decided by root, not by depth
      { op: "block", slot: 3, root: 4, parent: 2 },
      { op: "head", expect: 4, balances: [] },
    ]);
  });

  test("votes moving between branches move the head", () => {
    const b = ones(2, 32 * GWEI);
    run([
      { op: "block", slot: 1, root: 1, parent: 0 },
      { op: "block", slot: 1, root: 2, parent: 0 },
      { op: "head", expect: 2, balances: b },
      { op: "vote", validator: 0, root: 1, epoch: 1 },
      { op: "head", expect: 1, balances: b },
      { op: "vote", validator: 1, root: 2, epoch: 1 },
      { op: "head", expect: 2, balances: b }, // equal weights: higher root
      { op: "block", slot: 2, root: 3, parent: 1 },
      { op: "vote", validator: 1, root: 3, epoch: 2 }, // moves from 2 to 3, below 1
      { op: "head", expect: 3, balances: b },
      { op: "vote", validator: 1, root: 2, epoch: 2 }, // not a later epoch: ignored
      { op: "head", expect: 3, balances: b },
      { op: "vote", validator: 0, root: 2, epoch: 3 },
      { op: "head", expect: 2, balances: b },
    ]);
  });

  test("the heavier branch wins, whatever its length", () => {
    //      0
    //    /   \
    //   1     2
    //   |     |
    //   3     4
    //   |
    //   5
    const b = [10 * GWEI, 10 * GWEI, 25 * GWEI];
    run([
      { op: "block", slot: 1, root: 1, parent: 0 },
      { op: "block", slot: 1, root: 2, parent: 0 },
      { op: "block", slot: 2, root: 3, parent: 1 },
      { op: "block", slot: 2, root: 4, parent: 2 },
      { op: "block", slot: 3, root: 5, parent: 3 },
      { op: "vote", validator: 0, root: 5, epoch: 0 },
      { op: "vote", validator: 1, root: 3, epoch: 0 },
      { op: "vote", validator: 2, root: 4, epoch: 0 },
      { op: "head", expect: 4, balances: b }, // 25 > 10 + 10
      { op: "vote", validator: 2, root: 1, epoch: 1 }, // votes for an inner node count for its whole chain
      { op: "head", expect: 5, balances: b },
    ]);
  });

  test("ties break by the lexicographically higher root at every level", () => {
    const b = ones(4, 32 * GWEI);
    run([
      { op: "block", slot: 1, root: 0x10, parent: 0 },
      { op: "block", slot: 1, root: 0x20, parent: 0 },
      { op: "block", slot: 2, root: 0x11, parent: 0x10 },
      { op: "block", slot: 2, root: 0x12, parent: 0x10 },
      { op: "vote", validator: 0, root: 0x11, epoch: 0 },
      { op: "vote", validator: 1, root: 0x12, epoch: 0 },
      { op: "vote", validator: 2, root: 0x20, epoch: 0 },
      { op: "vote", validator: 3, root: 0x20, epoch: 0 },
      { op: "head", expect: 0x20, balances: b }, // 64 vs 64: 0x20 > 0x10
      { op: "vote", validator: 3, root: 0x12, epoch: 1 },
      { op: "head", expect: 0x12, balances: b }, // 0x10 wins 96-32, then 0x12 (64) over 0x11 (32)
      { op: "vote", validator: 0, root: 0x10, epoch: 1 }, // 0x11 now 0: 0x12 still ahead
      { op: "vote", validator: 3, root: 0x11, epoch: 2 },
      { op: "head", expect: 0x12, balances: b }, // 0x11 32 vs 0x12 32: tie to 0x12
    ]);
  });

  test("a byte-order tie break, not numeric: 0x80.. beats 0x7f..", () => {
    const h = new Harness();
    const low = "0x7f" + "ff".repeat(31);
    const high = "0x80" + "00".repeat(31);
    h.addBlock(summary(1, low, GENESIS));
    h.addBlock(summary(1, high, GENESIS));
    assert.equal(h.head([], GENESIS_CP, GENESIS_CP), high);
  });

  test("balance changes re-weigh unchanged votes", () => {
    run([
      { op: "block", slot: 1, root: 1, parent: 0 },
      { op: "block", slot: 1, root: 2, parent: 0 },
      { op: "vote", validator: 0, root: 1, epoch: 0 },
      { op: "vote", validator: 1, root: 2, epoch: 0 },
      { op: "head", expect: 1, balances: [32 * GWEI, 31 * GWEI] },
      { op: "head", expect: 2, balances: [31 * GWEI, 32 * GWEI] },
      { op: "head", expect: 2, balances: [0, 1] }, // validator 0 no longer active
      { op: "head", expect: 1, balances: [5] }, // validator 1 beyond the list: weighs 0
      { op: "vote", validator: 2, root: 2, epoch: 0 },
      { op: "head", expect: 2, balances: [5, 0, 6] }, // a new validator
      {
        op: "check",
        fn: (h) => {
          const n = h.protoArray.nodes;
          assert.deepEqual(n.map((x) => x.weight), [11, 5, 6]);
        },
      },
    ]);
  });

  test("a leaf whose justified checkpoint differs from the store's is filtered out, even when heavier", () => {
    //     0 ── 1 (slot 8, justified (1,1)) ── 2 (justified (1,1))
    //                                    └── 3 (justified (0,0), heavier)
    const j1 = cp(1, 1);
    const b = [10, 20];
    run([
      { op: "block", slot: 8, root: 1, parent: 0 },
      { op: "block", slot: 9, root: 2, parent: 1, justified: j1 },
      { op: "block", slot: 9, root: 3, parent: 1 },
      { op: "vote", validator: 0, root: 2, epoch: 1 },
      { op: "vote", validator: 1, root: 3, epoch: 1 },
      { op: "head", expect: 3, balances: b }, // store at genesis: everything viable
      { op: "head", expect: 2, balances: b, justified: j1 },
      // A finalized checkpoint mismatch filters as well.
      { op: "head", expect: 0, balances: b, justified: GENESIS_CP, finalized: cp(1, 1) }, // no leaf finalized at (1,1)
    ]);
  });

  test("viability is decided at the leaves (filter_block_tree), not at inner nodes", () => {
    // 1 is viable itself but its only child 3 is not: the spec drops the whole branch 1, so 2 is the head although
    // 1 is heavier. Below 2, the non-viable inner node 4 carries a viable leaf 5 and stays in.
    const j = cp(1, 9);
    const ok = { justified: j };
    const b = [100, 1];
    run([
      { op: "block", slot: 8, root: 9, parent: 0 },
      { op: "block", slot: 9, root: 1, parent: 9, ...ok },
      { op: "block", slot: 9, root: 2, parent: 9, ...ok },
      { op: "block", slot: 10, root: 3, parent: 1 },
      { op: "block", slot: 10, root: 4, parent: 2 },
      { op: "block", slot: 11, root: 5, parent: 4, ...ok },
      { op: "vote", validator: 0, root: 1, epoch: 1 },
      { op: "vote", validator: 1, root: 2, epoch: 1 },
      { op: "head", expect: 5, balances: b, justified: j },
      { op: "block", slot: 11, root: 6, parent: 3, ...ok }, // now branch 1 has a viable leaf
      { op: "head", expect: 6, balances: b, justified: j },
      // No viable leaf at all below the justified root: the justified root itself.
      { op: "head", expect: 9, balances: b, justified: cp(1, 9), finalized: cp(1, 9) },
    ]);
  });

  test("children at or before the justified epoch's start slot are not walked into", () => {
    // Justified checkpoint (2, 1): block 1 is at slot 3 and the epoch-2 start slot 16 was skipped on its chain.
    // Child 2 at slot 12 <= 16 is excluded by get_head even though it is heavier; child 3 at slot 17 is walked.
    const j = cp(2, 1);
    run([
      { op: "block", slot: 3, root: 1, parent: 0 },
      { op: "block", slot: 12, root: 2, parent: 1, justified: j },
      { op: "block", slot: 17, root: 3, parent: 1, justified: j },
      { op: "block", slot: 18, root: 4, parent: 2, justified: j },
      { op: "vote", validator: 0, root: 4, epoch: 2 },
      { op: "head", expect: 3, balances: [32], justified: j },
      { op: "head", expect: 4, balances: [32], justified: cp(0, 0) },
    ]);
  });

  test("pruning removes non-descendants of the finalized root and keeps the head", () => {
    //   0 ── 1 ── 3 ── 5 ── 7
    //    \    \        └── 6
    //     2    4
    const b = ones(4, 32 * GWEI);
    run([
      { op: "block", slot: 1, root: 1, parent: 0 },
      { op: "block", slot: 1, root: 2, parent: 0 },
      { op: "block", slot: 2, root: 3, parent: 1 },
      { op: "block", slot: 2, root: 4, parent: 1 },
      { op: "block", slot: 3, root: 5, parent: 3 },
      { op: "block", slot: 4, root: 6, parent: 5 },
      { op: "block", slot: 4, root: 7, parent: 5 },
      { op: "vote", validator: 0, root: 2, epoch: 0 },
      { op: "vote", validator: 1, root: 4, epoch: 0 },
      { op: "vote", validator: 2, root: 6, epoch: 0 },
      { op: "vote", validator: 3, root: 6, epoch: 0 },
      { op: "head", expect: 6, balances: b },
      { op: "prune", finalized: 3, expectPruned: 4 }, // 0, 1, 2, 4
      {
        op: "check",
        fn: (h) => {
          assert.deepEqual(h.protoArray.nodes.map((n) => n.root), [3, 5, 6, 7].map(root));
          assert.equal(h.protoArray.nodes[0].parent, NONE);
          assert.equal(h.protoArray.hasBlock(root(1)), false);
          assert.deepEqual(h.votes.currentIndices, [NONE, NONE, 2, 2]);
          assert.throws(() => h.addBlock(summary(5, root(8), root(4))), (e: unknown) => e instanceof ForkChoiceError && e.type.code === "UNKNOWN_PARENT");
        },
      },
      { op: "head", expect: 6, balances: b, justified: cp(0, 3) },
      { op: "vote", validator: 0, root: 7, epoch: 1 },
      { op: "vote", validator: 1, root: 7, epoch: 1 },
      { op: "head", expect: 7, balances: b, justified: cp(0, 3) },
      { op: "block", slot: 5, root: 8, parent: 7 },
      { op: "head", expect: 8, balances: b, justified: cp(0, 3) },
      {
        op: "check",
        fn: (h) => assert.deepEqual(h.protoArray.nodes.map((n) => n.weight), [128, 128, 64, 64, 0].map((x) => x * GWEI)),
      },
      { op: "prune", finalized: 3, expectPruned: null }, // nothing left to prune
    ]);
  });

  test("pruning waits for the threshold", () => {
    run(
      [
        { op: "block", slot: 1, root: 1, parent: 0 },
        { op: "block", slot: 2, root: 2, parent: 1 },
        { op: "block", slot: 3, root: 3, parent: 2 },
        { op: "block", slot: 2, root: 4, parent: 1 },
        { op: "prune", finalized: 2, expectPruned: null }, // 3 prunable (0, 1, 4) < 4
        { op: "block", slot: 1, root: 5, parent: 0 },
        { op: "prune", finalized: 2, expectPruned: 4 },
        { op: "head", expect: 3, balances: [], justified: cp(0, 2) },
      ],
      4,
    );
  });

  test("errors are typed", () => {
    const h = new Harness();
    const code = (fn: () => void, expected: string) =>
      assert.throws(fn, (e: unknown) => e instanceof ForkChoiceError && e.type.code === expected, expected);
    code(() => h.addBlock(summary(1, root(1), root(9))), "UNKNOWN_PARENT");
    code(() => h.addBlock(summary(0, root(1), GENESIS)), "INVALID_BLOCK_SLOT");
    h.addBlock(summary(1, root(1), GENESIS));
    code(() => h.protoArray.findHead(GENESIS), "STALE_SCORES");
    code(() => h.protoArray.applyScoreChanges([0], GENESIS_CP, GENESIS_CP), "INVALID_DELTAS_LENGTH");
    code(() => h.protoArray.applyScoreChanges([0, -1], GENESIS_CP, GENESIS_CP), "NEGATIVE_WEIGHT");
    code(() => h.protoArray.findHead(GENESIS), "STALE_SCORES"); // nothing is read from a pass that threw
    h.protoArray.applyScoreChanges([0, 0], GENESIS_CP, GENESIS_CP);
    code(() => h.protoArray.findHead(root(7)), "UNKNOWN_JUSTIFIED_ROOT");
    code(() => h.protoArray.maybePrune(root(7)), "UNKNOWN_FINALIZED_ROOT");
    // A known block again is a no-op.
    h.addBlock(summary(1, root(1), GENESIS));
    assert.equal(h.protoArray.length, 2);
  });
});

describe("computeDeltas", () => {
  test("moves, balance changes, new and absent validators", () => {
    const votes = createVotes();
    for (let v = 0; v < 5; v++) ensureVote(votes, v);
    votes.currentIndices.splice(0, 5, 0, 1, 1, NONE, 2);
    votes.nextIndices.splice(0, 5, 1, 1, 1, 0, NONE);
    const old = [10, 20, 30, 0, 50];
    const next = [10, 25, 30, 40];
    // v0 moves 0->1 (10), v1 stays at 1 with +5, v2 unchanged, v3 new at 0 (40), v4 leaves 2 (-50).
    assert.deepEqual(Array.from(computeDeltas(3, votes, old, next)), [-10 + 40, 10 + 5, -50]);
    assert.deepEqual(votes.currentIndices, [1, 1, 1, 0, NONE]);
    assert.deepEqual(Array.from(computeDeltas(3, votes, next, next)), [0, 0, 0]);
  });

  test("remapVotes follows a prune", () => {
    const votes = createVotes();
    ensureVote(votes, 2);
    votes.currentIndices.splice(0, 3, 0, 2, NONE);
    votes.nextIndices.splice(0, 3, 1, 2, 2);
    remapVotes(votes, Int32Array.from([NONE, 0, 1]));
    assert.deepEqual(votes.currentIndices, [NONE, 1, NONE]);
    assert.deepEqual(votes.nextIndices, [0, 1, 1]);
  });
});

// --- Randomized against the spec reference -------------------------------------------------------------------


describe("proto-array head equals the spec's get_head on random trees", () => {
  test("300 random trees with votes, balances, checkpoints and prunes", () => {
    let heads = 0;
    let nonGenesisStores = 0;
    let prunes = 0;
    let filtered = 0; // heads that the checkpoint filter changed
    for (let seed = 1; seed <= 300; seed++) {
      const rand = prng(seed);
      const int = (n: number) => Math.floor(rand() * n);
      const pick = <T>(xs: T[]): T => xs[int(xs.length)];
      const h = new Harness(int(2) === 0 ? 0 : 1 + int(4));
      const validators = 1 + int(24);
      const maxEpochOf = new Array<number>(validators).fill(-1);
      let nextRoot = 1;
      const checkpoints: CheckpointHex[] = [GENESIS_CP];
      // Balances: mostly effective balances, some inactive (0), sometimes small odd integers (exactness of ties).
      const randomBalances = () =>
        Array.from({ length: int(3) === 0 ? validators - int(3) : validators }, () =>
          int(6) === 0 ? 0 : int(2) === 0 ? (1 + int(32)) * GWEI : 1 + int(4),
        );
      let balances = randomBalances();
      let base = GENESIS; // the root everything kept descends from (the last prune's)

      for (let round = 0; round < 12; round++) {
        // New blocks on random known parents.
        for (let k = int(6); k > 0; k--) {
          const parent = pick(h.protoArray.nodes);
          const slot = parent.slot + 1 + int(SLOTS_PER_EPOCH + 2);
          const r = root(nextRoot++ * 0x1000 + int(0x1000)); // random low bits: varied tie breaks
          // Post-state checkpoints: a justified checkpoint at an epoch boundary of the block's own chain.
          const chainCheckpoint = (maxEpoch: number): CheckpointHex => {
            const epoch = int(maxEpoch + 1);
            let node = parent;
            while (node.slot > epoch * SLOTS_PER_EPOCH && node.parent !== NONE) node = h.protoArray.nodes[node.parent];
            return { epoch, root: node.root };
          };
          const epochNow = Math.floor(slot / SLOTS_PER_EPOCH);
          const justified = int(3) === 0 ? parent.justifiedCheckpoint : chainCheckpoint(epochNow);
          const finalized = int(2) === 0 ? parent.finalizedCheckpoint : chainCheckpoint(justified.epoch);
          h.addBlock(summary(slot, r, parent.root, justified, finalized));
          checkpoints.push(justified, finalized);
        }
        // Votes on random known blocks (some at the same epoch: ignored).
        for (let k = int(validators * 2); k > 0; k--) {
          const v = int(validators);
          const epoch = maxEpochOf[v] + int(3) - 1;
          h.vote(v, pick(h.protoArray.nodes).root, Math.max(epoch, 0));
          maxEpochOf[v] = Math.max(maxEpochOf[v], epoch);
        }
        if (int(3) === 0) balances = randomBalances();

        // The store's checkpoints: a known justified root (below the last prune), any finalized checkpoint.
        const candidates = checkpoints.filter((c) => h.protoArray.hasBlock(c.root) && h.protoArray.isDescendant(base, c.root));
        const justified = candidates.length > 0 && int(4) !== 0 ? pick(candidates) : { epoch: 0, root: base };
        const finalized = int(3) === 0 ? GENESIS_CP : pick(checkpoints);
        if (justified.epoch > 0 || finalized.epoch > 0) nonGenesisStores++;
        const expected = h.specHead(balances, justified, finalized);
        if (expected !== h.specHead(balances, { epoch: 0, root: justified.root }, GENESIS_CP)) filtered++;
        assert.equal(h.head(balances, justified, finalized), expected, `seed ${seed} round ${round}`);
        heads++;

        // Sometimes finalize an ancestor of the justified root and prune.
        if (int(3) === 0) {
          let node = h.protoArray.getNode(justified.root)!;
          for (let up = int(4); up > 0 && node.parent !== NONE; up--) node = h.protoArray.nodes[node.parent];
          const result = h.protoArray.maybePrune(node.root);
          if (result) {
            remapVotes(h.votes, result.newIndexOf);
            base = node.root;
            prunes++;
          }
          h.checkConsistency();
          // The head does not change by pruning.
          assert.equal(h.head(balances, justified, finalized), expected, `seed ${seed} round ${round} after prune`);
        }
      }
    }
    assert.equal(heads, 300 * 12);
    assert.ok(nonGenesisStores > 1000, `non-genesis stores: ${nonGenesisStores}`);
    assert.ok(filtered > 300, `heads changed by the filter: ${filtered}`);
    assert.ok(prunes > 50, `prunes: ${prunes}`);
  });
});

describe("head updates visit only what changed", () => {
  /** Every node's weight, viability and best child, computed from scratch from the votes and the node list. */
  function checkAgainstFullRecomputation(h: Harness, justified: CheckpointHex, finalized: CheckpointHex, where: string): void {
    const { nodes } = h.protoArray;
    const n = nodes.length;
    const own = new Array<number>(n).fill(0);
    h.votes.currentIndices.forEach((node, v) => {
      if (node !== NONE) own[node] += v < h.balances.length ? h.balances[v] : 0;
    });
    const weight = [...own];
    const children: number[][] = nodes.map(() => []);
    for (let i = n - 1; i > 0; i--) {
      const p = nodes[i].parent;
      if (p === NONE) continue;
      weight[p] += weight[i];
      children[p].push(i);
    }
    const viable = new Array<boolean>(n).fill(false);
    const justifiedSlot = justified.epoch * SLOTS_PER_EPOCH;
    for (let i = n - 1; i >= 0; i--) {
      const node = nodes[i];
      viable[i] =
        children[i].length > 0
          ? children[i].some((c) => viable[c])
          : (justified.epoch === 0 || (node.justifiedCheckpoint.epoch === justified.epoch && node.justifiedCheckpoint.root === justified.root)) &&
            (finalized.epoch === 0 || (node.finalizedCheckpoint.epoch === finalized.epoch && node.finalizedCheckpoint.root === finalized.root));
      const candidates = children[i].filter((c) => viable[c] && nodes[c].slot > justifiedSlot);
      const best = candidates.reduce((b, c) => (b === NONE || weight[c] > weight[b] || (weight[c] === weight[b] && nodes[c].root > nodes[b].root) ? c : b), NONE);
      assert.equal(node.weight, weight[i], `${where}: weight of node ${i}`);
      assert.equal(node.leadsToViableHead, viable[i], `${where}: viability of node ${i}`);
      assert.equal(node.bestChild, best, `${where}: best child of node ${i}`);
    }
  }

  test("random chains with forks under fixed checkpoints, then changed ones and prunes: every node as a full pass leaves it", () => {
    let incremental = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const rand = prng(1000 + seed);
      const int = (k: number) => Math.floor(rand() * k);
      const h = new Harness(int(2) === 0 ? 0 : 1 + int(8));
      h.useLowestDelta = seed % 2 === 0;
      const validators = 4 + int(40);
      const epochOf = new Array<number>(validators).fill(-1);
      let balances = Array.from({ length: validators }, () => (int(8) === 0 ? 0 : (16 + int(17)) * GWEI));
      let justified = GENESIS_CP;
      let finalized = GENESIS_CP;
      let tips: ProtoNode[] = [h.protoArray.nodes[0]];
      let nextRoot = 1;
      for (let round = 0; round < 60; round++) {
        // mostly extend a tip; sometimes fork off a recent block
        for (let k = int(3); k > 0; k--) {
          const parent = int(6) === 0 ? h.protoArray.nodes[Math.max(0, h.protoArray.length - 1 - int(6))] : tips[int(tips.length)];
          const r = root(nextRoot++ * 0x1000 + int(0x1000));
          // post-state checkpoints: the parent's, the store's, or newly justified (and finalized) epochs of its chain
          const checkpointOnChain = (epoch: number): CheckpointHex => ({ epoch, root: h.protoArray.getAncestor(parent.root, epoch * SLOTS_PER_EPOCH) ?? parent.root });
          const parentEpoch = Math.floor(parent.slot / SLOTS_PER_EPOCH);
          const roll = int(8);
          const cps =
            roll === 0
              ? { j: justified, f: finalized }
              : roll === 1 && parentEpoch > 1
                ? { j: checkpointOnChain(parentEpoch - int(2)), f: int(2) === 0 ? parent.finalizedCheckpoint : checkpointOnChain(parentEpoch - 2) }
                : { j: parent.justifiedCheckpoint, f: parent.finalizedCheckpoint };
          h.addBlock(summary(parent.slot + 1 + int(2), r, parent.root, cps.j, cps.f));
          tips = tips.filter((t) => t.root !== parent.root);
          tips.push(h.protoArray.getNode(r)!);
        }
        // votes move to recent blocks, as attestations do
        for (let k = int(validators); k > 0; k--) {
          const v = int(validators);
          const target = h.protoArray.nodes[Math.max(0, h.protoArray.length - 1 - int(8))];
          const epoch = epochOf[v] + 1;
          epochOf[v] = epoch;
          h.vote(v, target.root, epoch);
        }
        if (int(10) === 0) balances = balances.map((b) => (int(4) === 0 ? (16 + int(17)) * GWEI : b));
        // now and then the store's checkpoints move to a block's (every node is visited then), and it may prune
        if (int(12) === 0) {
          const node = h.protoArray.nodes[int(h.protoArray.length)];
          justified = node.justifiedCheckpoint.epoch > 0 && h.protoArray.hasBlock(node.justifiedCheckpoint.root) ? node.justifiedCheckpoint : justified;
          finalized = int(2) === 0 ? node.finalizedCheckpoint : finalized;
          if (int(2) === 0) {
            const result = h.protoArray.maybePrune(justified.root);
            if (result) remapVotes(h.votes, result.newIndexOf);
            tips = tips.filter((t) => h.protoArray.hasBlock(t.root));
            if (tips.length === 0) tips = [h.protoArray.nodes[h.protoArray.length - 1]];
          }
        } else {
          incremental++;
        }
        const where = `seed ${seed} round ${round}`;
        const head = h.head(balances, justified, finalized);
        if (h.protoArray.getIndex(justified.root) === 0 || h.protoArray.length === h.blocks.size) {
          assert.equal(head, h.specHead(balances, justified, finalized), `${where}: head`);
        }
        checkAgainstFullRecomputation(h, justified, finalized, where);
        h.checkConsistency();
      }
    }
    assert.ok(incremental > 5000, `head updates under unchanged checkpoints: ${incremental}`);
  });
});

describe("ancestor walks with skip pointers", () => {
  /** the plain walk, one parent at a time: what getAncestor and isDescendant must equal */
  function naiveAncestor(pa: ProtoArray, r: RootHex, slot: number): RootHex | undefined {
    let i = pa.getIndex(r);
    if (i === undefined) return undefined;
    while (pa.nodes[i].slot > slot) {
      i = pa.nodes[i].parent;
      if (i === NONE) return undefined;
    }
    return pa.nodes[i].root;
  }
  function naiveIsDescendant(pa: ProtoArray, a: RootHex, r: RootHex): boolean {
    const ai = pa.getIndex(a);
    let i = pa.getIndex(r);
    if (ai === undefined || i === undefined) return false;
    while (i !== NONE && i > ai) i = pa.nodes[i].parent;
    return i === ai;
  }

  test("skipDepth is below the depth, and 0 at the root", () => {
    for (let d = 0; d < 5000; d++) assert.ok(skipDepth(d) < Math.max(1, d) && skipDepth(d) >= 0, `depth ${d}`);
  });

  test("getAncestor and isDescendant equal the parent-by-parent walk on random trees, before and after pruning", () => {
    for (let seed = 1; seed <= 6; seed++) {
      const rand = prng(seed);
      const pa = new ProtoArray({ slotsPerEpoch: SLOTS_PER_EPOCH, pruneThreshold: 0 }, summary(0, GENESIS, root(0xffff)));
      const roots = [GENESIS];
      // long chains with forks off random earlier blocks and skipped slots
      for (let k = 1; k <= 1500; k++) {
        const parent = rand() < 0.9 ? roots[roots.length - 1] : roots[Math.floor(rand() * roots.length)];
        const parentSlot = pa.getNode(parent)!.slot;
        const r = root(k);
        pa.onBlock(summary(parentSlot + 1 + Math.floor(rand() * 3), r, parent));
        roots.push(r);
      }
      const check = (label: string) => {
        const live = roots.filter((r) => pa.hasBlock(r));
        for (let q = 0; q < 400; q++) {
          const r = live[Math.floor(rand() * live.length)];
          const slot = Math.floor(rand() * (pa.getNode(r)!.slot + 2));
          assert.equal(pa.getAncestor(r, slot), naiveAncestor(pa, r, slot), `${label}: ancestor of ${r} at ${slot}`);
          const a = rand() < 0.5 ? (naiveAncestor(pa, r, slot) ?? live[0]) : live[Math.floor(rand() * live.length)];
          assert.equal(pa.isDescendant(a, r), naiveIsDescendant(pa, a, r), `${label}: ${r} below ${a}`);
        }
      };
      check(`seed ${seed}`);
      // prune at a block on the main chain: indices move, the walks must still agree
      const finalized = roots[700];
      if (pa.maybePrune(finalized)) check(`seed ${seed}, pruned`);
      // the nodes' numbers live in columns compacted by the prune: each node still reads its own
      pa.nodes.forEach((node, i) => {
        assert.equal(pa.getIndex(node.root), i);
        const json = JSON.parse(JSON.stringify(node)) as { parent: number; weight: number; root: string };
        assert.equal(json.parent, node.parent);
        assert.equal(json.root, node.root);
        if (i === 0) assert.equal(node.parent, NONE);
        else assert.equal(pa.nodes[node.parent].root, node.parentRoot, `parent of ${node.root} after the prune`);
      });
      assert.equal(pa.getAncestor(roots[1400], 0), undefined);
    }
  });
});
