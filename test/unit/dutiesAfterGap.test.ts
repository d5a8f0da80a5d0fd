// A chain that goes 10 epochs without blocks (as Medalla did) and resumes through the Beacon API alone: the
// duties of the clock's current and next epoch are served however far the head is behind, the epoch after costs
// one epoch transition, blocks produced for those duties import, and the chain finalizes again. The clock is
// driven by hand, so nothing here depends on timing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BitArray } from "@chainsafe/ssz";
import { createBeaconApiServer, type BeaconApiServer } from "../../src/api/server/index.js";
import { sign } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { processSlots } from "../../src/state-transition/index.js";
import { computeSigningRoot, getDomain } from "../../src/state-transition/util/domain.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../src/state-transition/util/epoch.js";
import { toHex } from "../../src/state-transition/util/math.js";
import { buildApiTestChain, type ApiTestChain } from "../utils/apiServerChain.js";

const VALIDATORS = 64;
const GAP_EPOCHS = 10;

let tc: ApiTestChain;
let server: BeaconApiServer;
let base: string;
let clock = 0;

/** parsed response JSON: checked by the assertions, not by types */
type Json = any;

async function call(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function setClock(slot: number): Promise<void> {
  clock = slot;
  await tc.chain.onClockSlot(slot);
}

const allIndices = Array.from({ length: VALIDATORS }, (_, i) => String(i));

async function duties(epoch: number): Promise<{ proposers: Json[]; attesters: Json[] }> {
  const p = await call("GET", `/eth/v1/validator/duties/proposer/${epoch}`);
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const a = await call("POST", `/eth/v1/validator/duties/attester/${epoch}`, allIndices);
  assert.equal(a.status, 200, JSON.stringify(a.body));
  return { proposers: p.body.data, attesters: a.body.data };
}

before(async () => {
  tc = await buildApiTestChain({ validators: VALIDATORS, slots: 34 });
  server = await createBeaconApiServer({ chain: tc.chain, clock: { currentSlot: () => clock } });
  const { port } = await server.listen("127.0.0.1", 0);
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  await server?.close();
  await tc?.close();
});

describe("duties after 10 epochs without blocks", () => {
  it("are served for the current and next epoch, and the chain resumes and finalizes", async () => {
    const c = tc.config;
    const spe = c.SLOTS_PER_EPOCH;
    const headRoot = tc.chain.headRoot;
    const head = await tc.chain.getHeadState("test");
    const headEpoch = head.epochCtx.epoch;
    const finalizedBefore = tc.chain.forkChoice.getFinalizedCheckpoint().epoch;
    assert.ok(finalizedBefore >= 1, "the chain finalized before the gap");

    const current = headEpoch + GAP_EPOCHS;
    await setClock(computeStartSlotAtEpoch(c, current));
    const query = server.query;
    // asked at once, as a validator client does at an epoch's start: the requests share one walk from the head
    const both = await Promise.all([duties(current), duties(current + 1)]);
    for (const [i, epoch] of [current, current + 1].entries()) {
      const d = both[i];
      // what the head advanced through the empty slots says
      const expected = head.clone(true);
      processSlots(expected, computeStartSlotAtEpoch(c, epoch));
      assert.deepEqual(d.proposers.map((x) => Number(x.validator_index)), expected.epochCtx.proposers);
      assert.deepEqual(
        d.proposers.map((x) => Number(x.slot)),
        Array.from({ length: spe }, (_, i) => computeStartSlotAtEpoch(c, epoch) + i),
      );
      assert.equal(d.attesters.length, VALIDATORS);
      for (const x of d.attesters) {
        const committee = expected.epochCtx.getBeaconCommittee(Number(x.slot), Number(x.committee_index));
        assert.equal(String(committee[Number(x.validator_committee_index)]), x.validator_index);
      }
    }
    // reached epoch by epoch from the head: one transition per epoch of the gap, and one for the next epoch
    assert.equal(query.epochsAdvanced, GAP_EPOCHS + 1);
    assert.equal((await call("GET", `/eth/v1/validator/duties/proposer/${current + 2}`)).status, 400);
    // beyond the clock's next epoch the old bound on empty slots still holds
    await assert.rejects(query.getStateForEpoch(current + 2, { proposers: true }), /not computed \(limit/);

    // an epoch later, still no block: the new next epoch costs one more transition, not eleven
    await setClock(computeStartSlotAtEpoch(c, current + 1));
    await duties(current + 1);
    await duties(current + 2);
    assert.equal(query.epochsAdvanced, GAP_EPOCHS + 2);
    assert.equal(tc.chain.headRoot, headRoot);

    // resume: each slot's proposer (from its duties) gets a block from the API, each slot's committee attests
    // through the API, until the chain finalizes an epoch after the gap
    const resume = current + 1;
    const byEpoch = new Map<number, { proposers: Json[]; attesters: Json[] }>();
    let proposed = 0;
    for (let slot = computeStartSlotAtEpoch(c, resume); slot < computeStartSlotAtEpoch(c, resume + 4); slot++) {
      await setClock(slot);
      const epoch = computeEpochAtSlot(c, slot);
      if (!byEpoch.has(epoch)) byEpoch.set(epoch, await duties(epoch));
      const { proposers, attesters } = byEpoch.get(epoch)!;
      const proposer = Number(proposers[slot % spe].validator_index);

      const pre = await tc.chain.regen.getPreState({ slot, parentRoot: Buffer.from(tc.chain.headRoot.slice(2), "hex") } as never, "test");
      const randao = tc.signer.randaoReveal(pre, proposer, epoch);
      const produced = await call("GET", `/eth/v1/validator/blocks/${slot}?randao_reveal=${toHex(randao)}`);
      assert.equal(produced.status, 200, JSON.stringify(produced.body));
      const block = c.types.BeaconBlock.fromJson(produced.body.data);
      assert.equal(block.proposerIndex, proposer);
      const signed = c.types.SignedBeaconBlock.toJson(tc.signer.signBlock(pre, block));
      assert.equal((await call("POST", "/eth/v1/beacon/blocks", signed)).status, 200);
      assert.equal(tc.chain.headRoot, toHex(c.types.BeaconBlock.hashTreeRoot(block)));
      proposed++;

      const state = await tc.chain.getHeadState("test");
      const atts: Json[] = [];
      for (const duty of attesters.filter((x) => Number(x.slot) === slot)) {
        const r = await call("GET", `/eth/v1/validator/attestation_data?slot=${slot}&committee_index=${duty.committee_index}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const data = c.types.AttestationData.fromJson(r.body.data);
        const domain = getDomain(c, state.state, c.DOMAIN_BEACON_ATTESTER, data.target.epoch);
        const signature = sign(interopSecretKey(Number(duty.validator_index)), computeSigningRoot(c, c.types.AttestationData, data, domain));
        const aggregationBits = BitArray.fromSingleBit(Number(duty.committee_length), Number(duty.validator_committee_index));
        atts.push(c.types.Attestation.toJson({ aggregationBits, data, signature }));
      }
      assert.ok(atts.length > 0);
      const posted = await call("POST", "/eth/v1/beacon/pool/attestations", atts);
      assert.equal(posted.status, 200, JSON.stringify(posted.body));
      await tc.chain.settle();
      if (tc.chain.forkChoice.getFinalizedCheckpoint().epoch >= resume) break;
    }
    const finalized = tc.chain.forkChoice.getFinalizedCheckpoint();
    assert.ok(finalized.epoch >= resume, `finalized epoch ${finalized.epoch} after resuming at epoch ${resume} (${proposed} blocks)`);
    assert.ok(finalized.epoch > finalizedBefore);
  });
});
