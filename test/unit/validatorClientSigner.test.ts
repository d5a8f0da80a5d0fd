// The validator client's signer: signatures valid under the chain's own domains (get_domain on a genesis state),
// and the checks every signature passes first: the clock, the beacon node's epoch, the data's own consistency, and
// slashing protection, which must have recorded a block or attestation before its signature exists.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getNamedConfig } from "../../src/config/index.js";
import { sign, verify } from "../../src/crypto/bls.js";
import { interopSecretKey, interopSecretKeyBytes } from "../../src/crypto/interop.js";
import { createInteropGenesisState } from "../../src/state-transition/index.js";
import { computeSigningRoot, getDomain } from "../../src/state-transition/util/domain.js";
import { primitive, type AttestationData } from "../../src/types/index.js";
import { SlotClock } from "../../src/util/slotClock.js";
import { isAggregator } from "../../src/validator/services/aggregation.js";
import { SigningRefusedError, ValidatorSigner, type SlashingProtectionLike } from "../../src/validator/signer.js";

const c = getNamedConfig("minimal");
const state = createInteropGenesisState(c, 8, 1_000_000);
const SLOT_MS = c.SECONDS_PER_SLOT * 1000;

/** Records calls; refuses a second attestation for a target (or block for a slot) with another root. */
class RecordingProtection implements SlashingProtectionLike {
  readonly calls: string[] = [];
  gate: Promise<void> = Promise.resolve();
  private readonly seen = new Map<string, string>();
  private check(key: string, root: Uint8Array): void {
    const hex = Buffer.from(root).toString("hex");
    if (this.seen.has(key) && this.seen.get(key) !== hex) throw new Error(`double ${key}`);
    this.seen.set(key, hex);
  }
  async checkAndInsertBlockProposal(pubkey: Uint8Array, slot: number, root: Uint8Array): Promise<void> {
    await this.gate;
    this.check(`block ${Buffer.from(pubkey).toString("hex")} ${slot}`, root);
    this.calls.push(`block ${slot}`);
  }
  async checkAndInsertAttestation(pubkey: Uint8Array, source: number, target: number, root: Uint8Array): Promise<void> {
    await this.gate;
    this.check(`attestation ${Buffer.from(pubkey).toString("hex")} ${target}`, root);
    this.calls.push(`attestation ${source}->${target}`);
  }
}

function makeSigner(opts: { slotNow: number; beaconSlot: number | null; protection?: RecordingProtection }): { signer: ValidatorSigner; protection: RecordingProtection } {
  const protection = opts.protection ?? new RecordingProtection();
  const clock = new SlotClock({ genesisTime: 1_000_000, secondsPerSlot: c.SECONDS_PER_SLOT, slotsPerEpoch: c.SLOTS_PER_EPOCH, now: () => 1_000_000_000 + opts.slotNow * SLOT_MS + 1 });
  const signer = new ValidatorSigner({
    config: c,
    genesisValidatorsRoot: state.genesisValidatorsRoot,
    secretKeys: [0, 1, 2].map((i) => interopSecretKeyBytes(i)),
    slashingProtection: protection,
    clock,
    beaconSlot: () => opts.beaconSlot,
  });
  return { signer, protection };
}

function data(slot: number, sourceEpoch: number, targetEpoch: number, rootByte = 1): AttestationData {
  return {
    slot,
    index: 0,
    beaconBlockRoot: new Uint8Array(32).fill(rootByte),
    source: { epoch: sourceEpoch, root: new Uint8Array(32) },
    target: { epoch: targetEpoch, root: new Uint8Array(32).fill(rootByte) },
  };
}

const refused = (reason: string) => (e: unknown) => e instanceof SigningRefusedError && e.reason === reason;

describe("ValidatorSigner", () => {
  it("signs what the chain verifies with its own domains", async () => {
    const { signer } = makeSigner({ slotNow: 20, beaconSlot: 20 });
    const pk = interopSecretKey(1).toPublicKey().toBytes();
    assert.ok(signer.hasKey(pk) && !signer.hasKey(interopSecretKey(5).toPublicKey().toBytes()));

    const randao = await signer.signRandaoReveal(pk, 20);
    assert.ok(verify(pk, computeSigningRoot(c, primitive.Epoch, 2, getDomain(c, state, c.DOMAIN_RANDAO, 2)), randao));

    const block = { ...c.types.BeaconBlock.defaultValue(), slot: 20, proposerIndex: 1 };
    const signedBlock = await signer.signBlock(pk, block);
    assert.ok(verify(pk, computeSigningRoot(c, c.types.BeaconBlock, block, getDomain(c, state, c.DOMAIN_BEACON_PROPOSER, 2)), signedBlock.signature));

    const att = await signer.signAttestation(pk, data(20, 1, 2), 5, 3);
    assert.deepEqual(att.aggregationBits.getTrueBitIndexes(), [3]);
    assert.equal(att.aggregationBits.bitLen, 5);
    assert.ok(verify(pk, computeSigningRoot(c, c.types.AttestationData, att.data, getDomain(c, state, c.DOMAIN_BEACON_ATTESTER, 2)), att.signature));

    const proof = await signer.signSelectionProof(pk, 20);
    assert.ok(verify(pk, computeSigningRoot(c, primitive.Slot, 20, getDomain(c, state, c.DOMAIN_SELECTION_PROOF, 2)), proof));
    const aggregateAndProof = { aggregatorIndex: 1, aggregate: att, selectionProof: proof };
    const signedAgg = await signer.signAggregateAndProof(pk, aggregateAndProof);
    const aggRoot = computeSigningRoot(c, c.types.AggregateAndProof, aggregateAndProof, getDomain(c, state, c.DOMAIN_AGGREGATE_AND_PROOF, 2));
    assert.ok(verify(pk, aggRoot, signedAgg.signature));
  });

  it("never signs more than one slot ahead of its clock", async () => {
    const { signer, protection } = makeSigner({ slotNow: 20, beaconSlot: 20 });
    const pk = interopSecretKey(0).toPublicKey().toBytes();
    await signer.signAttestation(pk, data(21, 1, 2), 4, 0); // one slot ahead: allowed
    await assert.rejects(signer.signAttestation(pk, data(22, 1, 2), 4, 0), refused("clock"));
    await assert.rejects(signer.signRandaoReveal(pk, 22), refused("clock"));
    await assert.rejects(signer.signSelectionProof(pk, 22), refused("clock"));
    await assert.rejects(signer.signBlock(pk, { ...c.types.BeaconBlock.defaultValue(), slot: 22 }), refused("clock"));
    assert.deepEqual(protection.calls, ["attestation 1->2"], "refused before slashing protection is asked");
  });

  it("never signs for an epoch far from the beacon node's, nor before hearing from it", async () => {
    const pk = interopSecretKey(0).toPublicKey().toBytes();
    // our clock 4 hours ahead (2400 epochs of 6 s slots), the node's head where it should be
    const ahead = makeSigner({ slotNow: 20 + 2400 * 8, beaconSlot: 20 }).signer;
    await assert.rejects(ahead.signAttestation(pk, data(20 + 2400 * 8, 2401, 2402), 4, 0), refused("head"));
    await assert.rejects(ahead.signRandaoReveal(pk, 20 + 2400 * 8), refused("head"));
    const unknown = makeSigner({ slotNow: 20, beaconSlot: null }).signer;
    await assert.rejects(unknown.signAttestation(pk, data(20, 1, 2), 4, 0), refused("head"));
    // two epochs away is still allowed (a head behind a few empty slots), three is not
    const near = makeSigner({ slotNow: 40, beaconSlot: 24 }).signer;
    await near.signAttestation(pk, data(40, 4, 5), 4, 0);
    const far = makeSigner({ slotNow: 40, beaconSlot: 16 }).signer;
    await assert.rejects(far.signAttestation(pk, data(40, 4, 5), 4, 0), refused("head"));
  });

  it("refuses inconsistent attestation data and unknown keys", async () => {
    const { signer } = makeSigner({ slotNow: 20, beaconSlot: 20 });
    const pk = interopSecretKey(0).toPublicKey().toBytes();
    await assert.rejects(signer.signAttestation(pk, data(20, 1, 3), 4, 0), refused("invalid"));
    await assert.rejects(signer.signAttestation(pk, data(20, 3, 2), 4, 0), refused("invalid"));
    await assert.rejects(signer.signAttestation(pk, data(20, 1, 2), 4, 4), refused("invalid"));
    await assert.rejects(signer.signAttestation(interopSecretKey(7).toPublicKey().toBytes(), data(20, 1, 2), 4, 0), refused("unknown-key"));
  });

  it("asks slashing protection first, and signs only once it has recorded", async () => {
    const { signer, protection } = makeSigner({ slotNow: 20, beaconSlot: 20 });
    const pk = interopSecretKey(0).toPublicKey().toBytes();
    let open: () => void = () => {};
    protection.gate = new Promise<void>((r) => (open = r));
    let done = false;
    const signing = signer.signAttestation(pk, data(20, 1, 2), 4, 0).then((a) => ((done = true), a));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false, "no signature while the record is not written");
    open();
    await signing;
    assert.equal(done, true);
    // the same vote again is fine; a different one for the same target is refused
    await signer.signAttestation(pk, data(20, 1, 2), 4, 0);
    await assert.rejects(signer.signAttestation(pk, data(20, 1, 2, 9), 4, 0), refused("slashing-protection"));
    await signer.signBlock(pk, { ...c.types.BeaconBlock.defaultValue(), slot: 20 });
    await assert.rejects(signer.signBlock(pk, { ...c.types.BeaconBlock.defaultValue(), slot: 20, proposerIndex: 3 }), refused("slashing-protection"));
  });
});

describe("isAggregator", () => {
  it("selects everyone in small committees and about 1 in committee/16 otherwise", async () => {
    const domain = getDomain(c, state, c.DOMAIN_SELECTION_PROOF, 0);
    let selected = 0;
    for (let slot = 0; slot <= 100; slot++) {
      const proof = sign(interopSecretKey(0), computeSigningRoot(c, primitive.Slot, slot, domain));
      assert.equal(isAggregator(c, 16, proof), true);
      const expected = Buffer.from(await crypto.subtle.digest("SHA-256", proof)).readBigUInt64LE(0) % 4n === 0n;
      assert.equal(isAggregator(c, 64, proof), expected);
      if (expected) selected++;
    }
    assert.ok(selected > 5 && selected < 50, `selected ${selected} of 101`);
  });
});
