// ForkChoice: the spec Store rules (on_tick, on_block, on_attestation, get_head) and their rejections, then random
// block/attestation/tick sequences run against a literal transcription of the spec's handlers.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ForkChoiceError, type ForkChoiceErrorCode } from "../../src/fork-choice/errors.js";
import { ForkChoice, type ForkChoiceAttestation } from "../../src/fork-choice/forkChoice.js";
import type { BlockSummary, CheckpointHex, RootHex } from "../../src/fork-choice/protoArray.js";
import { specGetAncestor, specGetHead, type SpecBlock, type SpecStore } from "../../src/fork-choice/reference.js";
import { minimalConfig } from "../../src/params/index.js";
import { createPrng as prng } from "../../src/util/prng.js";
import { cp, root } from "../utils/forkChoice.js";

const config = minimalConfig; // SLOTS_PER_EPOCH 8, SAFE_SLOTS_TO_UPDATE_JUSTIFIED 2
const SPE = config.SLOTS_PER_EPOCH;
const GWEI = 1_000_000_000;

const GENESIS = root(0);
const ZERO_CP: CheckpointHex = { epoch: 0, root: "0x" + "00".repeat(32) };

function block(slot: number, r: number, parent: number, justified = ZERO_CP, finalized = ZERO_CP): BlockSummary {
  return { slot, root: root(r), parentRoot: root(parent), stateRoot: root(r), targetRoot: root(r), justifiedCheckpoint: justified, finalizedCheckpoint: finalized };
}
function att(indices: number[], slot: number, blockRoot: number, targetEpoch: number, targetRoot: number): ForkChoiceAttestation {
  return { attestingIndices: indices, data: { slot, beaconBlockRoot: root(blockRoot), target: { epoch: targetEpoch, root: root(targetRoot) } } };
}
function rejects(fn: () => void, code: ForkChoiceErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof ForkChoiceError && e.type.code === code, code);
}

const genesisBlock = block(0, 0, 0xdead);
/** 32 Gwei * 64 validators for every checkpoint, unless a test says otherwise. */
const flatBalances = () => new Array<number>(64).fill(32 * GWEI);

function newForkChoice(opts: { pruneThreshold?: number; balances?: (c: CheckpointHex) => number[] } = {}): ForkChoice {
  return new ForkChoice(config, { block: genesisBlock }, opts.balances ?? flatBalances, { pruneThreshold: opts.pruneThreshold ?? 0 });
}

/** What a rejected call must leave untouched. */
function snapshot(fc: ForkChoice): unknown {
  return {
    nodes: fc.nodeCount,
    votes: fc.voteCount,
    queued: fc.queuedAttestationCount,
    j: fc.getJustifiedCheckpoint(),
    f: fc.getFinalizedCheckpoint(),
    bj: fc.getBestJustifiedCheckpoint(),
    slot: fc.getCurrentSlot(),
  };
}

describe("ForkChoice store rules", () => {
  test("anchor: justified and finalized at the anchor, head is the anchor", () => {
    const fc = newForkChoice();
    assert.deepEqual(fc.getJustifiedCheckpoint(), { epoch: 0, root: GENESIS });
    assert.deepEqual(fc.getFinalizedCheckpoint(), { epoch: 0, root: GENESIS });
    assert.equal(fc.getHead(), GENESIS);
    assert.equal(fc.nodeCount, 1);
    const later = new ForkChoice(config, { block: block(20, 5, 4), stateSlot: 26 }, flatBalances);
    assert.deepEqual(later.getJustifiedCheckpoint(), cp(3, 5));
    assert.equal(later.getCurrentSlot(), 26);
  });

  test("votes, queued attestations and the latest-message rule drive the head", () => {
    const fc = newForkChoice();
    fc.onBlock(block(1, 1, 0), 1);
    fc.onBlock(block(1, 2, 0), 1);
    assert.equal(fc.getHead(), root(2));
    // Current slot 1: an attestation of slot 1 counts from slot 2 only.
    fc.onAttestation(att([0, 1], 1, 1, 0, 0));
    assert.equal(fc.queuedAttestationCount, 1);
    assert.equal(fc.voteCount, 0);
    assert.equal(fc.getHead(), root(2));
    fc.onTick(2);
    assert.equal(fc.queuedAttestationCount, 0);
    assert.equal(fc.voteCount, 2);
    assert.equal(fc.getHead(), root(1));
    // Same target epoch: not newer, ignored.
    fc.onAttestation(att([0, 1, 2], 1, 2, 0, 0));
    assert.deepEqual(fc.getLatestMessage(0), { epoch: 0, root: root(1) });
    assert.deepEqual(fc.getLatestMessage(2), { epoch: 0, root: root(2) });
    assert.equal(fc.voteCount, 3);
    assert.equal(fc.getHead(), root(1)); // 64 vs 32
    // Epoch 1: validators 0 and 1 move to 2.
    fc.onBlock(block(8, 3, 2), 9);
    fc.onAttestation(att([0, 1], 8, 3, 1, 3));
    assert.equal(fc.getHead(), root(3));
    assert.equal(fc.getLatestMessage(5), undefined);
    // the packed export (for storage) says what the object export says
    const packed = fc.exportLatestMessagesPacked();
    const unpacked = Array.from(packed.validatorIndices, (v, k) => ({ validatorIndex: v, epoch: packed.epochs[k], root: packed.roots[packed.rootIndices[k]] }));
    assert.deepEqual(unpacked, fc.exportLatestMessages());
    assert.equal(packed.roots.length, new Set(packed.roots).size, "each root once");
    assert.equal(unpacked.length, 3);
  });

  test("justified balances are read once per justified checkpoint and weigh the votes", () => {
    const calls: CheckpointHex[] = [];
    const fc = newForkChoice({
      balances: (c) => {
        calls.push(c);
        return [10, 20];
      },
    });
    fc.onBlock(block(1, 1, 0), 2);
    fc.onBlock(block(1, 2, 0), 2);
    fc.onAttestation(att([0], 1, 2, 0, 0));
    fc.onAttestation(att([1], 1, 1, 0, 0));
    assert.equal(fc.getHead(), root(1)); // 20 > 10
    fc.getHead();
    assert.deepEqual(calls, [{ epoch: 0, root: GENESIS }]);
  });

  test("a new justified checkpoint early in the epoch is adopted at once", () => {
    const fc = newForkChoice();
    fc.onBlock(block(8, 1, 0), 8);
    fc.onBlock(block(16, 2, 1, cp(1, 1)), 17); // slot 17: 1 slot into epoch 2 (< SAFE_SLOTS 2)
    assert.deepEqual(fc.getJustifiedCheckpoint(), cp(1, 1));
    assert.deepEqual(fc.getBestJustifiedCheckpoint(), cp(1, 1));
    assert.equal(fc.getHead(), root(2));
  });

  test("late in the epoch, a justified checkpoint in our chain is adopted, a conflicting one waits for the epoch start", () => {
    const fc = newForkChoice();
    fc.onBlock(block(8, 1, 0), 8);
    fc.onBlock(block(9, 2, 0), 9);
    fc.onBlock(block(16, 3, 1, cp(1, 1)), 16); // adopt (1, 1) early in epoch 2
    assert.deepEqual(fc.getJustifiedCheckpoint(), cp(1, 1));
    // Slot 20 (late): block 4 justifies (2, 3), a descendant of (1, 1)'s root: adopted.
    fc.onBlock(block(20, 4, 3, cp(2, 3)), 20);
    assert.deepEqual(fc.getJustifiedCheckpoint(), cp(2, 3));
    // Slot 22 (late): block 6 on the other chain justifies (2, 5), not descending from (2, 3): only best justified.
    fc.onBlock(block(17, 5, 2, cp(1, 2)), 22);
    fc.onBlock(block(22, 6, 5, cp(2, 5)), 22);
    assert.deepEqual(fc.getJustifiedCheckpoint(), cp(2, 3));
    fc.onBlock(block(23, 7, 6, cp(3, 6)), 23);
    assert.deepEqual(fc.getJustifiedCheckpoint(), cp(2, 3));
    assert.deepEqual(fc.getBestJustifiedCheckpoint(), cp(3, 6));
    fc.onTick(23);
    fc.onTick(22); // the clock never goes back
    assert.equal(fc.getCurrentSlot(), 23);
    fc.onTick(24); // epoch 3 starts: the best justified checkpoint is adopted
    assert.deepEqual(fc.getJustifiedCheckpoint(), cp(3, 6));
    // Block 7 (slot 23) is not after the justified epoch's start slot 24: get_head stops at the justified root.
    assert.equal(fc.getHead(), root(6));
  });

  test("a tick jumping over an epoch start adopts the best justified checkpoint too", () => {
    const fc = newForkChoice();
    fc.onBlock(block(8, 1, 0), 8);
    fc.onBlock(block(9, 2, 0), 9);
    fc.onBlock(block(16, 3, 1, cp(1, 1)), 16);
    fc.onBlock(block(17, 4, 2, cp(1, 2)), 21); // not a later epoch than the store's: ignored
    assert.deepEqual(fc.getBestJustifiedCheckpoint(), cp(1, 1));
    fc.onBlock(block(21, 5, 4, cp(2, 4)), 21); // late and not descending from (1, 1): best justified only
    assert.deepEqual(fc.getJustifiedCheckpoint(), cp(1, 1));
    assert.deepEqual(fc.getBestJustifiedCheckpoint(), cp(2, 4));
    fc.onTick(30);
    assert.deepEqual(fc.getJustifiedCheckpoint(), cp(2, 4));
  });

  test("finalization updates the checkpoints, prunes conflicting blocks, and they are then rejected", () => {
    const fc = newForkChoice();
    //  0 ── 1 (8) ── 3 (16) ── 4 (24, j(2,3) f(1,1))
    //   \── 2 (9) ── 5 (10)
    fc.onBlock(block(8, 1, 0), 8);
    fc.onBlock(block(9, 2, 0), 9);
    fc.onBlock(block(10, 5, 2), 10);
    fc.onBlock(block(16, 3, 1, cp(1, 1)), 16);
    fc.onAttestation(att([0, 1, 2], 16, 3, 2, 3));
    fc.onAttestation(att([3, 4], 10, 5, 1, 0)); // epoch 1's checkpoint on 5's chain is the genesis block
    fc.onTick(24);
    assert.equal(fc.getHead(), root(3));
    assert.equal(fc.nodeCount, 5);
    fc.onBlock(block(24, 4, 3, cp(2, 3), cp(1, 1)), 24);
    assert.deepEqual(fc.getFinalizedCheckpoint(), cp(1, 1));
    assert.deepEqual(fc.getJustifiedCheckpoint(), cp(2, 3));
    assert.equal(fc.nodeCount, 3); // 1, 3, 4 remain
    assert.equal(fc.hasBlock(root(2)), false);
    assert.deepEqual(fc.getLatestMessage(3), { epoch: 1, root: undefined }); // its block was pruned
    assert.equal(fc.voteCount, 5);
    assert.equal(fc.getHead(), root(4));
    const before = snapshot(fc);
    rejects(() => fc.onBlock(block(25, 6, 5), 25), "UNKNOWN_PARENT"); // parent pruned
    rejects(() => fc.onBlock(block(8, 7, 0), 25), "UNKNOWN_PARENT");
    assert.deepEqual(snapshot(fc), { ...(before as object), slot: 25 });
  });

  test("onBlock rejections leave the store as it was", () => {
    const fc = newForkChoice({ pruneThreshold: 1000 }); // keep the conflicting branch in the proto-array
    fc.onBlock(block(8, 1, 0), 8);
    fc.onBlock(block(9, 2, 0), 9);
    fc.onBlock(block(16, 3, 1, cp(1, 1)), 16);
    fc.onBlock(block(24, 4, 3, cp(2, 3), cp(1, 1)), 24);
    assert.equal(fc.nodeCount, 5);
    const before = snapshot(fc);
    rejects(() => fc.onBlock(block(25, 9, 99), 24), "UNKNOWN_PARENT");
    rejects(() => fc.onBlock(block(25, 9, 4), 24), "FUTURE_SLOT");
    rejects(() => fc.onBlock(block(16, 9, 3), 24), "INVALID_BLOCK_SLOT"); // not after its parent (a state-transition guarantee)
    rejects(() => fc.onBlock(block(8, 9, 0), 24), "NOT_AFTER_FINALIZED_SLOT");
    rejects(() => fc.onBlock(block(12, 9, 2), 24), "NOT_FINALIZED_DESCENDANT");
    assert.deepEqual(snapshot(fc), before);
    fc.onBlock(block(24, 4, 3, cp(2, 3), cp(1, 1)), 24); // known: a no-op
    assert.deepEqual(snapshot(fc), before);
  });

  test("onAttestation rejections (validate_on_attestation)", () => {
    const fc = newForkChoice();
    fc.onBlock(block(8, 1, 0), 8);
    fc.onBlock(block(17, 2, 1), 17);
    fc.onBlock(block(12, 3, 1), 17);
    fc.onTick(20); // epoch 2; previous epoch 1
    const before = snapshot(fc);
    rejects(() => fc.onAttestation(att([0], 24, 2, 3, 2)), "FUTURE_EPOCH");
    rejects(() => fc.onAttestation(att([0], 7, 0, 0, 0)), "PAST_EPOCH");
    rejects(() => fc.onAttestation(att([0], 17, 2, 1, 1)), "BAD_TARGET_EPOCH");
    rejects(() => fc.onAttestation(att([0], 17, 2, 2, 77)), "UNKNOWN_TARGET_ROOT");
    rejects(() => fc.onAttestation(att([0], 17, 77, 2, 1)), "UNKNOWN_HEAD_BLOCK");
    rejects(() => fc.onAttestation(att([0], 16, 2, 2, 1)), "ATTESTS_TO_FUTURE_BLOCK");
    rejects(() => fc.onAttestation(att([0], 17, 2, 2, 2)), "INVALID_TARGET"); // epoch 2's checkpoint on 2's chain is 1
    rejects(() => fc.onAttestation(att([0], 13, 3, 1, 0)), "INVALID_TARGET"); // epoch 1's is 1, not 0
    rejects(() => fc.onAttestation(att([0, -1], 17, 2, 2, 1)), "INVALID_VALIDATOR_INDEX");
    rejects(() => fc.onAttestation(att([1.5], 17, 2, 2, 1)), "INVALID_VALIDATOR_INDEX");
    assert.deepEqual(snapshot(fc), before);
    // Valid: current epoch, and previous epoch on a skipped checkpoint slot.
    fc.onAttestation(att([0], 17, 2, 2, 1));
    fc.onAttestation(att([1], 13, 3, 1, 1));
    fc.onAttestation(att([2], 22, 2, 2, 1)); // slot 22 > current 20: queued
    assert.equal(fc.voteCount, 2);
    assert.equal(fc.queuedAttestationCount, 1);
    fc.onTick(22);
    assert.equal(fc.queuedAttestationCount, 1); // counts from slot 23
    fc.onTick(23);
    assert.equal(fc.voteCount, 3);
  });
});

// --- Random runs against a literal transcription of the spec's handlers ------------------------------------------

/** The spec Store with time in slots; on_tick is called at every slot, as a node ticking each slot would. */
class SpecModel implements SpecStore {
  readonly slotsPerEpoch = SPE;
  currentSlot = 0;
  justifiedCheckpoint: CheckpointHex = { epoch: 0, root: GENESIS };
  finalizedCheckpoint: CheckpointHex = { epoch: 0, root: GENESIS };
  bestJustifiedCheckpoint: CheckpointHex = { epoch: 0, root: GENESIS };
  readonly blocks = new Map<RootHex, SpecBlock>([[GENESIS, genesisBlock]]);
  readonly latestMessages = new Map<number, { epoch: number; root: RootHex }>();
  /** Attestations that failed only the "slot is past" assert: retried at each tick, in arrival order. */
  private pending: ForkChoiceAttestation[] = [];

  constructor(private readonly balancesOf: (c: CheckpointHex) => number[]) {}

  private balancesCache: { checkpoint: CheckpointHex; balances: number[] } | null = null;
  get justifiedBalances(): number[] {
    if (this.balancesCache?.checkpoint !== this.justifiedCheckpoint) {
      this.balancesCache = { checkpoint: this.justifiedCheckpoint, balances: this.balancesOf(this.justifiedCheckpoint) };
    }
    return this.balancesCache.balances;
  }

  onTick(slot: number): void {
    while (this.currentSlot < slot) {
      const previousSlot = this.currentSlot;
      this.currentSlot++;
      if (this.currentSlot > previousSlot && this.currentSlot % SPE === 0) {
        if (this.bestJustifiedCheckpoint.epoch > this.justifiedCheckpoint.epoch) this.justifiedCheckpoint = this.bestJustifiedCheckpoint;
      }
      const pending = this.pending;
      this.pending = [];
      for (const a of pending) {
        try {
          this.onAttestation(a);
        } catch {
          // dropped: invalid for good
        }
      }
    }
  }

  private ancestor(r: RootHex, slot: number): RootHex {
    return specGetAncestor(this, r, slot);
  }

  private shouldUpdateJustifiedCheckpoint(newJustified: CheckpointHex): boolean {
    if (this.currentSlot % SPE < config.SAFE_SLOTS_TO_UPDATE_JUSTIFIED) return true;
    const justifiedSlot = this.justifiedCheckpoint.epoch * SPE;
    return this.ancestor(newJustified.root, justifiedSlot) === this.justifiedCheckpoint.root;
  }

  onBlock(b: BlockSummary): void {
    assert.ok(this.blocks.has(b.parentRoot), "parent");
    assert.ok(this.currentSlot >= b.slot, "future");
    const finalizedSlot = this.finalizedCheckpoint.epoch * SPE;
    assert.ok(b.slot > finalizedSlot, "finalized slot");
    assert.ok(this.ancestor(b.parentRoot, finalizedSlot) === this.finalizedCheckpoint.root, "finalized ancestor");
    this.blocks.set(b.root, b);
    const j = b.justifiedCheckpoint;
    const f = b.finalizedCheckpoint;
    if (j.epoch > this.justifiedCheckpoint.epoch) {
      if (j.epoch > this.bestJustifiedCheckpoint.epoch) this.bestJustifiedCheckpoint = j;
      if (this.shouldUpdateJustifiedCheckpoint(j)) this.justifiedCheckpoint = j;
    }
    if (f.epoch > this.finalizedCheckpoint.epoch) {
      this.finalizedCheckpoint = f;
      if (!(this.justifiedCheckpoint.epoch === j.epoch && this.justifiedCheckpoint.root === j.root)) {
        if (j.epoch > this.justifiedCheckpoint.epoch) {
          this.justifiedCheckpoint = j;
          return;
        }
        if (this.ancestor(this.justifiedCheckpoint.root, f.epoch * SPE) !== f.root) this.justifiedCheckpoint = j;
      }
    }
  }

  /** validate_on_attestation + update_latest_messages; an attestation failing only the slot assert is kept. */
  onAttestation(a: ForkChoiceAttestation): void {
    const { slot, beaconBlockRoot, target } = a.data;
    const currentEpoch = Math.floor(this.currentSlot / SPE);
    const previousEpoch = currentEpoch > 0 ? currentEpoch - 1 : 0;
    assert.ok(target.epoch === currentEpoch || target.epoch === previousEpoch);
    assert.ok(target.epoch === Math.floor(slot / SPE));
    assert.ok(this.blocks.has(target.root));
    assert.ok(this.blocks.has(beaconBlockRoot));
    assert.ok(this.blocks.get(beaconBlockRoot)!.slot <= slot);
    assert.ok(target.root === this.ancestor(beaconBlockRoot, target.epoch * SPE));
    if (!(this.currentSlot >= slot + 1)) {
      this.pending.push(a);
      return;
    }
    for (const i of Array.from(a.attestingIndices)) {
      const m = this.latestMessages.get(i);
      if (!m || target.epoch > m.epoch) this.latestMessages.set(i, { epoch: target.epoch, root: beaconBlockRoot });
    }
  }
}

function outcome(fn: () => void): "ok" | "rejected" {
  try {
    fn();
    return "ok";
  } catch {
    return "rejected";
  }
}

describe("ForkChoice equals the spec's handlers on random runs", () => {
  test("300 seeded runs of ticks, blocks (forks, justification, finalization) and attestations", () => {
    const stats = { blocks: 0, blocksRejected: 0, atts: 0, attsRejected: 0, heads: 0, headsBelowJustified: 0, justifiedChanges: 0, finalizedChanges: 0, prunedNodes: 0 };
    for (let seed = 1; seed <= 300; seed++) {
      const rand = prng(seed * 7919);
      const int = (n: number) => Math.floor(rand() * n);
      const pick = <T>(xs: T[]): T => xs[int(xs.length)];
      const validators = 8 + int(40);
      // Deterministic per-checkpoint balances: some validators inactive.
      const balancesOf = (c: CheckpointHex): number[] =>
        Array.from({ length: validators }, (_, i) => ((c.epoch * 31 + parseInt(c.root.slice(-4), 16) + i * 17) % 9 === 0 ? 0 : (16 + ((i * 7 + c.epoch) % 17)) * GWEI));
      const fc = new ForkChoice(config, { block: genesisBlock }, balancesOf, { pruneThreshold: int(2) === 0 ? 0 : int(8) });
      const model = new SpecModel(balancesOf);
      let slot = 0;
      let nextRoot = 1;
      const allRoots: RootHex[] = [GENESIS];
      let lastJustified = fc.getJustifiedCheckpoint();
      let lastFinalized = fc.getFinalizedCheckpoint();

      for (let step = 0; step < 80; step++) {
        const action = int(10);
        if (action < 2) {
          slot += 1 + (int(6) === 0 ? int(2 * SPE) : 0);
          fc.onTick(slot);
          model.onTick(slot);
        } else if (action < 6) {
          // A block: usually on a known recent block, sometimes on an old or pruned one, sometimes from the future.
          const parentRoot = int(8) === 0 ? pick(allRoots) : pick([...model.blocks.keys()].slice(-6));
          const parent = model.blocks.get(parentRoot)!;
          const bslot = parent.slot + 1 + int(SPE + 2);
          const blockSlot = int(12) === 0 ? bslot : Math.min(bslot, Math.max(slot, parent.slot + 1));
          const epoch = Math.floor(blockSlot / SPE);
          // Post-state checkpoints: the parent's, or a newer justified checkpoint on its own chain (an epoch
          // boundary at most one epoch back), finalizing the previous justified one.
          let justified = parent.justifiedCheckpoint;
          let finalized = parent.finalizedCheckpoint;
          if (epoch >= 1 && int(2) === 0) {
            const jEpoch = Math.max(0, epoch - 1 - int(2));
            if (jEpoch > justified.epoch) {
              const newJustified = { epoch: jEpoch, root: specGetAncestor(model, parentRoot, jEpoch * SPE) };
              if (int(4) !== 0 && justified.epoch > 0) finalized = justified;
              justified = newJustified;
            }
          }
          const r = root(nextRoot++ * 0x100 + int(0x100));
          const b: BlockSummary = { slot: blockSlot, root: r, parentRoot, stateRoot: r, targetRoot: r, justifiedCheckpoint: justified, finalizedCheckpoint: finalized };
          const now = Math.max(slot, int(3) === 0 ? slot + int(3) : slot);
          slot = now;
          model.onTick(now);
          const expected = outcome(() => model.onBlock(b));
          const actual = outcome(() => fc.onBlock(b, now));
          assert.equal(actual, expected, `seed ${seed} step ${step}: block at ${blockSlot} on ${parentRoot}`);
          stats.blocks++;
          if (actual === "ok") allRoots.push(r);
          else stats.blocksRejected++;
        } else {
          // An attestation for a block fork choice still holds (see the note on pruned blocks in onAttestation).
          const held = [...model.blocks.keys()].filter((x) => fc.hasBlock(x));
          const blockRoot = pick(held.slice(-8));
          const blockSlot = model.blocks.get(blockRoot)!.slot;
          const aSlot = Math.max(blockSlot - (int(10) === 0 ? 1 : 0), slot - int(2 * SPE) + int(3));
          const targetEpoch = int(15) === 0 ? Math.floor(aSlot / SPE) + 1 : Math.floor(aSlot / SPE);
          const targetRoot =
            int(10) === 0 ? pick(held) : specGetAncestor(model, blockRoot, Math.max(0, targetEpoch * SPE));
          const indices = Array.from({ length: 1 + int(6) }, () => int(validators));
          const a: ForkChoiceAttestation = { attestingIndices: indices, data: { slot: aSlot, beaconBlockRoot: blockRoot, target: { epoch: targetEpoch, root: targetRoot } } };
          const expected = outcome(() => model.onAttestation(a));
          const actual = outcome(() => fc.onAttestation(a));
          assert.equal(actual, expected, `seed ${seed} step ${step}: attestation ${JSON.stringify(a.data)}`);
          stats.atts++;
          if (actual === "rejected") stats.attsRejected++;
        }

        assert.deepEqual(fc.getJustifiedCheckpoint(), model.justifiedCheckpoint, `seed ${seed} step ${step}: justified`);
        assert.deepEqual(fc.getFinalizedCheckpoint(), model.finalizedCheckpoint, `seed ${seed} step ${step}: finalized`);
        assert.deepEqual(fc.getBestJustifiedCheckpoint(), model.bestJustifiedCheckpoint, `seed ${seed} step ${step}: best justified`);
        if (int(2) === 0) {
          const head = fc.getHead();
          const specHead = specGetHead(model);
          assert.equal(head, specHead, `seed ${seed} step ${step}: head`);
          if (head !== model.justifiedCheckpoint.root) stats.headsBelowJustified++;
          // The harness check: the same reference over ForkChoice's own view of the store.
          if (int(4) === 0) assert.equal(specGetHead(fc.toSpecStore()), specHead, `seed ${seed} step ${step}: toSpecStore`);
          stats.heads++;
        }
        const j = fc.getJustifiedCheckpoint();
        const f = fc.getFinalizedCheckpoint();
        if (j.root !== lastJustified.root) stats.justifiedChanges++;
        if (f.root !== lastFinalized.root) stats.finalizedChanges++;
        lastJustified = j;
        lastFinalized = f;
      }
      stats.prunedNodes += model.blocks.size - fc.nodeCount;
    }
    assert.ok(stats.justifiedChanges > 100 && stats.finalizedChanges > 100 && stats.prunedNodes > 500 && stats.headsBelowJustified > 5000, JSON.stringify(stats));
    assert.ok(stats.blocksRejected > 50 && stats.attsRejected > 200 && stats.atts - stats.attsRejected > 1000, JSON.stringify(stats));
  });
});
