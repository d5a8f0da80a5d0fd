// The operation pools behind the Beacon API: aggregation of single attestations, aggregates kept only when they
// add votes, bounds, is_aggregator, and the greedy packing of attestations for a block on a real chain's state.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { BitArray, fromHexString } from "@chainsafe/ssz";
import { AggregatedAttestationPool, AttestationPool, PoolFullError } from "../../src/chain/opPools/attestationPool.js";
import { isAggregator, selectAttestations } from "../../src/chain/opPools/index.js";
import { aggregateSignatures, sign } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { getNamedConfig } from "../../src/config/index.js";
import { getAttestationSignatureSet, type CachedBeaconState } from "../../src/state-transition/index.js";
import { computeSigningRoot, getDomain } from "../../src/state-transition/util/domain.js";
import { computeStartSlotAtEpoch } from "../../src/state-transition/util/epoch.js";
import { toHex } from "../../src/util/bytes.js";
import { verifySignatureSet } from "../../src/state-transition/util/signature.js";
import type { Attestation, AttestationData } from "../../src/types/index.js";
import { buildApiTestChain, type ApiTestChain } from "../utils/apiServerChain.js";

const config = getNamedConfig("minimal");
const t = config.types;

function data(slot: number, index = 0): AttestationData {
  return {
    slot,
    index,
    beaconBlockRoot: new Uint8Array(32).fill(slot),
    source: { epoch: 0, root: new Uint8Array(32) },
    target: { epoch: 0, root: new Uint8Array(32) },
  };
}

const message = new Uint8Array(32).fill(9);
/** Attester `v` signs `message` (the pools do not check what was signed; aggregation needs real points). */
function single(d: AttestationData, len: number, bit: number, v: number): Attestation {
  return { data: d, aggregationBits: BitArray.fromSingleBit(len, bit), signature: sign(interopSecretKey(v), message) };
}

describe("attestation pools", () => {
  it("folds single attestations into one aggregate per data root", () => {
    const pool = new AttestationPool();
    const d = data(3);
    const root = toHex(t.AttestationData.hashTreeRoot(d));
    assert.equal(pool.add(single(d, 4, 1, 11), root), "added");
    assert.equal(pool.add(single(d, 4, 3, 13), root), "added");
    assert.equal(pool.add(single(d, 4, 1, 11), root), "known");
    const agg = pool.getAggregate(3, root)!;
    assert.deepEqual(agg.aggregationBits.getTrueBitIndexes(), [1, 3]);
    assert.deepEqual(agg.signature, aggregateSignatures([sign(interopSecretKey(11), message), sign(interopSecretKey(13), message)]));
    assert.equal(pool.getAggregate(4, root), null);
    assert.throws(() => pool.add({ ...single(d, 4, 0, 1), aggregationBits: BitArray.fromBoolArray([true, true, false, false]) }, root));
  });

  it("keeps aggregates only when no stored one covers them", () => {
    const pool = new AggregatedAttestationPool();
    const d = data(5);
    const root = toHex(t.AttestationData.hashTreeRoot(d));
    const withBits = (bits: boolean[]): Attestation => ({ data: d, aggregationBits: BitArray.fromBoolArray(bits), signature: sign(interopSecretKey(1), message) });
    assert.equal(pool.add(withBits([true, true, false, false]), root), "added");
    assert.equal(pool.add(withBits([true, false, false, false]), root), "known");
    assert.equal(pool.add(withBits([false, false, true, false]), root), "added");
    assert.equal(pool.getAll().length, 2);
    // a superset replaces what it covers
    assert.equal(pool.add(withBits([true, true, true, false]), root), "added");
    assert.equal(pool.getAll().length, 1);
    assert.deepEqual(pool.getBest(5, root)!.aggregationBits.getTrueBitIndexes(), [0, 1, 2]);
  });

  it("is bounded: old slots go first, the newest slot is never evicted for an older one", () => {
    const pool = new AttestationPool(2);
    const roots = [1, 2, 3].map((s) => toHex(t.AttestationData.hashTreeRoot(data(s))));
    pool.add(single(data(1), 4, 0, 1), roots[0]);
    pool.add(single(data(2), 4, 0, 1), roots[1]);
    pool.add(single(data(3), 4, 0, 1), roots[2]);
    assert.equal(pool.size, 2);
    assert.equal(pool.getAggregate(1, roots[0]), null, "slot 1 evicted");
    assert.throws(() => pool.add(single(data(2, 1), 4, 0, 1), toHex(t.AttestationData.hashTreeRoot(data(2, 1)))), PoolFullError);
    pool.pruneBefore(3);
    assert.equal(pool.size, 1);
    const other = data(3, 1);
    pool.add(single(other, 4, 0, 1), toHex(t.AttestationData.hashTreeRoot(other)));
    assert.equal(pool.getAll({ slot: 3 }).length, 2);
    assert.equal(pool.getAll({ slot: 3, committeeIndex: 1 }).length, 1);
  });

  it("is_aggregator: bytes_to_uint64(hash(proof)[0:8]) % max(1, len // TARGET) == 0", () => {
    let yes = 0;
    for (let i = 0; i < 64; i++) {
      const proof = sign(interopSecretKey(i), message);
      const h = createHash("sha256").update(proof).digest();
      const expected = h.readBigUInt64LE(0) % 8n === 0n;
      assert.equal(isAggregator(config, 8 * config.TARGET_AGGREGATORS_PER_COMMITTEE, proof), expected);
      assert.equal(isAggregator(config, 3, proof), true, "small committees: everyone aggregates");
      if (expected) yes++;
    }
    assert.ok(yes > 0 && yes < 64, `${yes} of 64 aggregate`);
  });
});

describe("attestation packing on a real chain", () => {
  let tc: ApiTestChain;
  before(async () => {
    tc = await buildApiTestChain({ validators: 64, slots: 4 });
  });
  after(async () => {
    await tc?.close();
  });

  it("merges disjoint aggregates, adds only new votes, and skips what is on chain or not includable", async () => {
    const c = tc.config;
    const head = await tc.chain.getHeadState("test");
    const slot = head.state.slot;
    const pre: CachedBeaconState = await tc.chain.regen.getPreState({ slot: slot + 1, parentRoot: fromHexString(tc.chain.headRoot) } as never, "test");
    const committee = head.epochCtx.getBeaconCommittee(slot, 0);
    const d: AttestationData = {
      slot,
      index: 0,
      beaconBlockRoot: fromHexString(tc.chain.headRoot),
      source: head.state.currentJustifiedCheckpoint.toValue(),
      target: { epoch: 0, root: head.state.blockRoots.get(computeStartSlotAtEpoch(c, 0) % c.SLOTS_PER_HISTORICAL_ROOT) },
    };
    const signingRoot = computeSigningRoot(c, t.AttestationData, d, getDomain(c, head.state, c.DOMAIN_BEACON_ATTESTER, 0));
    const agg = (positions: number[]): Attestation => ({
      data: d,
      aggregationBits: BitArray.fromBoolArray(Array.from({ length: committee.length }, (_, i) => positions.includes(i))),
      signature: aggregateSignatures(positions.map((p) => sign(interopSecretKey(committee[p]), signingRoot))),
    });
    const dataRoot = toHex(t.AttestationData.hashTreeRoot(d));
    // already on chain: the head block's own attestations (of the slot before)
    const headBlock = (await tc.chain.query.getSignedBlock(tc.chain.headRoot))!.message;
    const onChain = headBlock.body.attestations.map((a) => ({ dataRoot: toHex(t.AttestationData.hashTreeRoot(a.data)), attestation: a }));
    assert.ok(onChain.length > 0);
    // wrong source: not includable
    const badSource = { ...agg([0]), data: { ...d, source: { epoch: 5, root: new Uint8Array(32) } } };
    const candidates = [
      ...onChain,
      { dataRoot, attestation: agg([0, 1]) },
      { dataRoot, attestation: agg([1, 2]) },
      { dataRoot, attestation: agg([2, 3]) },
      { dataRoot: toHex(t.AttestationData.hashTreeRoot(badSource.data)), attestation: badSource },
    ];
    const chosen = selectAttestations(pre, candidates);
    assert.equal(chosen.length, 1, "one merged attestation; nothing already on chain; nothing unincludable");
    assert.deepEqual(chosen[0].aggregationBits.getTrueBitIndexes(), [0, 1, 2, 3]);
    // the merged signature verifies for the four attesters
    assert.equal(verifySignatureSet(getAttestationSignatureSet(pre, chosen[0])), true);
  });
});
