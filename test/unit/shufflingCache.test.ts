import assert from "node:assert/strict";
import { test } from "node:test";
import { getNamedConfig } from "../../src/config/index.js";
import {
  createCachedBeaconState,
  createInteropGenesisState,
  processSlots,
  ShufflingCache,
  stateTransition,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { computeEpochShuffling, getActiveValidatorIndicesFromState } from "../../src/state-transition/cache/epochShuffling.js";
import { makeSignedEmptyBlock } from "../utils/chain.js";

const config = getNamedConfig("minimal");

function assertSameAsUncached(s: CachedBeaconState): void {
  const ctx = s.epochCtx;
  for (const sh of [ctx.previousShuffling, ctx.currentShuffling, ctx.nextShuffling]) {
    const fresh = computeEpochShuffling(config, s.state, getActiveValidatorIndicesFromState(s.state, sh.epoch), sh.epoch);
    assert.deepEqual(sh.shuffling, fresh.shuffling, `epoch ${sh.epoch} shuffling`);
  }
}

test("shuffling cache: keyed by decision root, shared across forks that agree on it, never a wrong shuffling", () => {
  const cache = new ShufflingCache();
  const genesis = createCachedBeaconState(config, createInteropGenesisState(config, 64, 0), { shufflingCache: cache });
  assert.equal(cache.misses, 2, "epochs 0 and 1 at genesis (previous = current)");

  // fork A: a block at slot 7 (the last slot of epoch 0, so it decides epoch 2's shuffling); fork B: none
  const block = makeSignedEmptyBlock(genesis.clone(true), 7);
  const forkA = stateTransition(genesis.clone(true), block, { verifySignatures: false, verifyStateRoot: true });
  const forkB = genesis.clone(true);
  processSlots(forkA, 8);
  processSlots(forkB, 8);
  // entering epoch 1 computes epoch 2's shuffling on each fork: different decision roots, different entries
  assert.notEqual(forkA.epochCtx.nextShuffling, forkB.epochCtx.nextShuffling);
  assert.equal(forkA.epochCtx.currentShuffling, forkB.epochCtx.currentShuffling, "epoch 1 depends on genesis only");
  assertSameAsUncached(forkA);
  assertSameAsUncached(forkB);

  // a state rebuilt from scratch (as from disk) reuses all three
  const hitsBefore = cache.hits;
  const reloaded = createCachedBeaconState(config, forkA.state.clone(), { shufflingCache: cache });
  assert.equal(cache.hits - hitsBefore, 3, "previous, current and next");
  assert.equal(reloaded.epochCtx.nextShuffling, forkA.epochCtx.nextShuffling);
  assertSameAsUncached(reloaded);
});

test("shuffling cache: bounded, oldest evicted first", () => {
  const cache = new ShufflingCache(2);
  const s = createCachedBeaconState(config, createInteropGenesisState(config, 64, 0), { shufflingCache: cache });
  processSlots(s, 8 * 4);
  assert.equal(cache.size, 2);
});
