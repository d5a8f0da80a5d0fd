// Epoch processing: the exact-integer helpers, and the one-pass rewards against a literal transcription of the
// spec's get_*_deltas on random synthetic states (the official vectors are checked by test/spec).
import assert from "node:assert/strict";
import { test } from "node:test";
import { BitArray } from "@chainsafe/ssz";
import { getNamedConfig, type BeaconConfig } from "../../src/config/index.js";
import { FAR_FUTURE_EPOCH } from "../../src/params/index.js";
import {
  beforeProcessEpoch,
  createCachedBeaconState,
  getAttestationComponentDeltas,
  processEpoch,
  processEpochSteps,
  processFinalUpdates,
  processJustificationAndFinalization,
  processRegistryUpdates,
  processRewardsAndPenalties,
  processSlashings,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { GweiSum, integerSquareRootBig, mulDivFloor } from "../../src/state-transition/epoch/util.js";
import { integerSquareRoot } from "../../src/state-transition/util/math.js";
import type { PendingAttestation } from "../../src/types/index.js";
import { justifiedBalancesOf } from "../../src/chain/justifiedBalances.js";
import { isActiveValidator } from "../../src/state-transition/util/validator.js";

test("integerSquareRootBig is exact above 2^53", () => {
  for (const n of [0n, 1n, 2n, 3n, 4n, 99n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 32_000_000_000n * 1_000_000n, 2n ** 64n - 1n]) {
    const r = BigInt(integerSquareRootBig(n));
    assert.ok(r * r <= n && (r + 1n) * (r + 1n) > n, `isqrt(${n}) = ${r}`);
  }
  for (const n of [0, 1, 15, 16, 17, 1e12, 2 ** 52 + 5]) assert.equal(integerSquareRootBig(BigInt(n)), integerSquareRoot(n));
});

test("mulDivFloor switches to BigInt when the product passes 2^53", () => {
  assert.equal(mulDivFloor(7, 9, 4), 15);
  const a = 32_000_000_000;
  const b = 2_000_000;
  assert.equal(BigInt(mulDivFloor(a, b, 16_777_216)), (BigInt(a) * BigInt(b)) / 16_777_216n);
  assert.equal(BigInt(mulDivFloor(2 ** 40 + 3, 2 ** 30 + 7, 2 ** 25 + 1)), ((2n ** 40n + 3n) * (2n ** 30n + 7n)) / (2n ** 25n + 1n));
});

test("GweiSum is exact for totals above 2^53", () => {
  const s = new GweiSum(1_000_000_000);
  let expected = 0n;
  for (let i = 0; i < 1_000_000; i++) {
    const v = i % 7 === 0 ? 31_999_999_999 : 32_000_000_000;
    s.add(v);
    expected += BigInt(v);
  }
  assert.equal(s.value(), expected);
  assert.equal(new GweiSum(1_000_000_000).total(), 1_000_000_000n);
});

/** A small random state at the last slot of `epoch`, with random pending attestations for both epochs. */
function randomState(c: BeaconConfig, seed: number, epoch: number, finalizedEpoch: number): CachedBeaconState {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const root = () => Uint8Array.from({ length: 32 }, () => Math.floor(rnd() * 256));
  const T = c.types;
  const v = T.BeaconState.defaultValue();
  v.slot = (epoch + 1) * c.SLOTS_PER_EPOCH - 1;
  v.blockRoots = v.blockRoots.map(root);
  v.randaoMixes = v.randaoMixes.map(root);
  const n = 80;
  for (let i = 0; i < n; i++) {
    const pubkey = new Uint8Array(48);
    pubkey[0] = i;
    const slashed = rnd() < 0.1;
    const exited = rnd() < 0.1;
    v.validators.push({
      pubkey,
      withdrawalCredentials: new Uint8Array(32),
      effectiveBalance: Math.floor(rnd() * 33) * 1e9,
      slashed,
      activationEligibilityEpoch: 0,
      activationEpoch: rnd() < 0.05 ? epoch + 3 : 0,
      exitEpoch: exited ? epoch - 1 + Math.floor(rnd() * 3) : FAR_FUTURE_EPOCH,
      withdrawableEpoch: exited || slashed ? epoch + Math.floor(rnd() * 4) : FAR_FUTURE_EPOCH,
    });
    v.balances.push(Math.floor(rnd() * 34e9));
  }
  v.finalizedCheckpoint = { epoch: finalizedEpoch, root: root() };
  const pre = createCachedBeaconState(c, T.BeaconState.toViewDU(v));
  const attestations = (e: number, maxSlot: number): PendingAttestation[] => {
    const out: PendingAttestation[] = [];
    const start = e * c.SLOTS_PER_EPOCH;
    for (let slot = start; slot < Math.min(start + c.SLOTS_PER_EPOCH, maxSlot); slot++) {
      for (let index = 0; index < pre.epochCtx.getCommitteeCountPerSlot(e); index++) {
        // several (overlapping) aggregates per committee, to exercise the minimal-inclusion-delay rule
        for (let k = 0; k < 3; k++) {
          const committee = pre.epochCtx.getBeaconCommittee(slot, index);
          const bits = BitArray.fromBitLen(committee.length);
          for (let b = 0; b < committee.length; b++) if (rnd() < 0.5) bits.set(b, true);
          out.push({
            aggregationBits: bits,
            data: {
              slot,
              index,
              beaconBlockRoot: rnd() < 0.7 ? v.blockRoots[slot % c.SLOTS_PER_HISTORICAL_ROOT] : root(),
              source: { epoch: 0, root: root() },
              target: { epoch: e, root: rnd() < 0.8 ? v.blockRoots[start % c.SLOTS_PER_HISTORICAL_ROOT] : root() },
            },
            inclusionDelay: 1 + Math.floor(rnd() * 3),
            proposerIndex: Math.floor(rnd() * n),
          });
        }
      }
    }
    return out;
  };
  v.previousEpochAttestations = attestations(epoch - 1, Infinity);
  v.currentEpochAttestations = attestations(epoch, v.slot);
  return createCachedBeaconState(c, T.BeaconState.toViewDU(v), { pubkeyCache: pre.epochCtx.pubkeyCache });
}

/** The spec's get_*_deltas, transcribed literally (sets, list comprehensions, BigInt uint64 arithmetic). */
function specDeltas(cached: CachedBeaconState): Record<string, { rewards: bigint[]; penalties: bigint[] }> {
  const { config: c, state, epochCtx } = cached;
  const validators = state.validators.getAllReadonlyValues();
  const n = validators.length;
  const currentEpoch = Math.floor(state.slot / c.SLOTS_PER_EPOCH);
  const previousEpoch = currentEpoch === 0 ? 0 : currentEpoch - 1;
  const inc = BigInt(c.EFFECTIVE_BALANCE_INCREMENT);
  const eb = (i: number) => BigInt(validators[i].effectiveBalance);
  const isActive = (i: number, e: number) => validators[i].activationEpoch <= e && e < validators[i].exitEpoch;
  const totalBalance = (ix: Iterable<number>) => {
    let sum = 0n;
    for (const i of ix) sum += eb(i);
    return sum > inc ? sum : inc;
  };
  const totalActive = totalBalance([...Array(n).keys()].filter((i) => isActive(i, currentEpoch)));
  const blockRoot = (slot: number) => state.blockRoots.get(slot % c.SLOTS_PER_HISTORICAL_ROOT);
  const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
  const source = (currentEpoch === previousEpoch ? state.currentEpochAttestations : state.previousEpochAttestations).getAllReadonlyValues();
  const target = source.filter((a) => eq(a.data.target.root, blockRoot(previousEpoch * c.SLOTS_PER_EPOCH)));
  const head = target.filter((a) => eq(a.data.beaconBlockRoot, blockRoot(a.data.slot)));
  const attesting = (a: PendingAttestation) => {
    const committee = epochCtx.getBeaconCommittee(a.data.slot, a.data.index);
    return [...committee].filter((_, k) => a.aggregationBits.get(k));
  };
  const unslashed = (atts: PendingAttestation[]) => new Set(atts.flatMap(attesting).filter((i) => !validators[i].slashed));
  const sqrt = BigInt(integerSquareRootBig(totalActive));
  const baseReward = (i: number) => (eb(i) * BigInt(c.BASE_REWARD_FACTOR)) / sqrt / 4n;
  const proposerReward = (i: number) => baseReward(i) / BigInt(c.PROPOSER_REWARD_QUOTIENT);
  const finalityDelay = BigInt(previousEpoch - state.finalizedCheckpoint.epoch);
  const inLeak = finalityDelay > BigInt(c.MIN_EPOCHS_TO_INACTIVITY_PENALTY);
  const eligible = [...Array(n).keys()].filter(
    (i) => isActive(i, previousEpoch) || (validators[i].slashed && previousEpoch + 1 < validators[i].withdrawableEpoch),
  );
  const zeros = () => new Array<bigint>(n).fill(0n);
  const component = (atts: PendingAttestation[]) => {
    const rewards = zeros();
    const penalties = zeros();
    const ix = unslashed(atts);
    const attestingBalance = totalBalance(ix);
    for (const i of eligible) {
      if (ix.has(i)) {
        if (inLeak) rewards[i] += baseReward(i);
        else rewards[i] += (baseReward(i) * (attestingBalance / inc)) / (totalActive / inc);
      } else penalties[i] += baseReward(i);
    }
    return { rewards, penalties };
  };
  const inclusion = { rewards: zeros(), penalties: zeros() };
  for (const i of unslashed(source)) {
    const candidates = source.filter((a) => attesting(a).includes(i));
    const a = candidates.reduce((best, x) => (x.inclusionDelay < best.inclusionDelay ? x : best));
    inclusion.rewards[a.proposerIndex] += proposerReward(i);
    inclusion.rewards[i] += (baseReward(i) - proposerReward(i)) / BigInt(a.inclusionDelay);
  }
  const inactivity = { rewards: zeros(), penalties: zeros() };
  if (inLeak) {
    const targetIx = unslashed(target);
    for (const i of eligible) {
      inactivity.penalties[i] += 4n * baseReward(i) - proposerReward(i);
      if (!targetIx.has(i)) inactivity.penalties[i] += (eb(i) * finalityDelay) / BigInt(c.INACTIVITY_PENALTY_QUOTIENT);
    }
  }
  return {
    source: component(source),
    target: component(target),
    head: component(head),
    inclusionDelay: inclusion,
    inactivityPenalty: inactivity,
  };
}

for (const [name, finalizedEpoch] of [
  ["finalizing", 4],
  ["inactivity leak", 0],
] as const) {
  test(`attestation deltas match the spec's get_*_deltas (${name})`, () => {
    const c = getNamedConfig("minimal");
    for (let seed = 1; seed <= 6; seed++) {
      const cached = randomState(c, seed, 6, finalizedEpoch);
      const expected = specDeltas(cached);
      const actual = getAttestationComponentDeltas(cached, beforeProcessEpoch(cached));
      for (const [k, d] of Object.entries(expected)) {
        const got = actual[k as keyof typeof actual];
        assert.deepEqual(got.rewards.map(BigInt), d.rewards, `${k} rewards, seed ${seed}`);
        assert.deepEqual(got.penalties.map(BigInt), d.penalties, `${k} penalties, seed ${seed}`);
      }

      // process_rewards_and_penalties applies exactly the sum of the five components.
      const balances = cached.state.balances.getAll();
      const after = cached.clone();
      processRewardsAndPenalties(after, beforeProcessEpoch(after));
      const got = after.state.balances.getAll();
      for (let i = 0; i < balances.length; i++) {
        // increase_balance by the summed rewards, then decrease_balance by the summed penalties (clamped at zero)
        let r = 0n;
        let p = 0n;
        for (const d of Object.values(expected)) {
          r += d.rewards[i];
          p += d.penalties[i];
        }
        const want = BigInt(balances[i]) + r < p ? 0n : BigInt(balances[i]) + r - p;
        assert.equal(BigInt(got[i]), want, `balance ${i}, seed ${seed}`);
      }
    }
  });
}

test("processEpoch equals the five steps in order and leaves the registry committed", () => {
  const c = getNamedConfig("minimal");
  const a = randomState(c, 42, 6, 4);
  const b = a.clone();
  processEpoch(a);
  assert.doesNotThrow(() => a.state.validators.getAllReadonlyValues());
  const ep = beforeProcessEpoch(b);
  processJustificationAndFinalization(b, ep);
  processRewardsAndPenalties(b, ep);
  processRegistryUpdates(b, ep);
  processSlashings(b, ep);
  processFinalUpdates(b, ep);
  assert.deepEqual(a.state.hashTreeRoot(), b.state.hashTreeRoot());
  assert.equal(a.state.currentEpochAttestations.length, 0);
});

test("processEpochSteps stops between its passes and ends where processEpoch does", () => {
  const c = getNamedConfig("minimal");
  const a = randomState(c, 43, 6, 4);
  const b = a.clone();
  processEpoch(a);
  const steps = processEpochSteps(b);
  let stops = 0;
  while (!steps.next().done) stops++;
  assert.ok(stops >= 5, `stopped ${stops} times`);
  assert.deepEqual(a.state.hashTreeRoot(), b.state.hashTreeRoot());
});

test("justified balances read from the epoch context equal the spec's (active: effective balance, others: 0)", () => {
  const c = getNamedConfig("minimal");
  const cached = randomState(c, 44, 6, 4);
  const reference = (epoch: number) => cached.state.validators.getAllReadonlyValues().map((v) => (isActiveValidator(v, epoch) ? v.effectiveBalance : 0));
  const fast = justifiedBalancesOf(cached, 6);
  assert.deepEqual(fast, reference(6));
  assert.ok(fast.some((b) => b === 0) && fast.some((b) => b > 0), "the state has both active and inactive validators");
  // another epoch than the state's: the general path
  assert.deepEqual(justifiedBalancesOf(cached, 9), reference(9));
});
