// The validator client against a fake beacon node (test/utils/fakeBeaconNode.ts) on short minimal-preset slots:
// it proposes, attests at one third of the slot or at the head event, and aggregates exactly when selected.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { getNamedConfig } from "../../src/config/index.js";
import { sign } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { computeDomain, computeSigningRoot } from "../../src/state-transition/util/domain.js";
import { primitive } from "../../src/types/index.js";
import { createValidatorMetrics } from "../../src/validator/metrics.js";
import { isAggregator } from "../../src/validator/services/aggregation.js";
import { hex } from "../utils/fakeBeaconNode.js";
import { vcTestBed, waitFor } from "../utils/vcSetup.js";

const config = getNamedConfig("minimal");
const { setup } = vcTestBed(config);

describe("validator client duties", () => {
  it("attests at one third of the slot without head events, and proposes every block it is due", async () => {
    const graffiti = new Uint8Array(32);
    graffiti.set(Buffer.from("cairn test"));
    const registry = new Registry();
    const metrics = createValidatorMetrics(registry);
    const { node, vc } = await setup({ secondsPerSlot: 0.9, validatorCount: 8, keys: [0, 1, 2, 3, 4, 5, 6, 7], headEventFraction: null, graffiti, metrics });
    const startSlot = vc.clock.currentSlot();
    await waitFor(() => node.attestations.filter((a) => a.value.data.slot > startSlot + 2).length >= 1, 10_000, "attestations 3 slots on");
    await vc.close();

    assert.deepEqual(node.problems, []);
    const slotMs = node.slotMs();
    assert.ok(node.attestations.length >= 3);
    for (const a of node.attestations) {
      const slot = a.value.data.slot;
      const ms = node.msSinceSlotStart(slot, a.at);
      assert.ok(ms >= slotMs / 3, `attestation for slot ${slot} published ${ms} ms into the slot`);
      assert.deepEqual(node.committeeAt(slot), [a.validatorIndex], "the duty's validator");
    }
    // one attestation per validator and slot, none twice
    const keys = node.attestations.map((a) => `${a.value.data.slot}:${a.validatorIndex}`);
    assert.equal(new Set(keys).size, keys.length);

    const blockSlots = node.blocks.map((b) => b.value.message.slot);
    for (let s = startSlot + 1; s <= startSlot + 3; s++) assert.ok(blockSlots.includes(s), `block for slot ${s} in ${blockSlots.join(",")}`);
    for (const b of node.blocks) {
      assert.equal(b.validatorIndex, node.proposerOf(b.value.message.slot));
      assert.equal(hex(b.value.message.body.graffiti), hex(graffiti));
    }
    const text = await registry.metrics();
    assert.match(text, /cairn_validator_duties_total\{kind="attestation",outcome="done"\} [1-9]/);
    assert.match(text, /cairn_validator_duties_total\{kind="block",outcome="done"\} [1-9]/);
  });

  it("attests as soon as the head event for the slot arrives", async () => {
    const { node, vc } = await setup({ secondsPerSlot: 3, validatorCount: 8, keys: [0, 1, 2, 3, 4, 5, 6, 7], headEventFraction: 0.05 });
    const startSlot = vc.clock.currentSlot();
    await waitFor(() => node.attestations.some((a) => a.value.data.slot > startSlot), 10_000, "an attestation after the first slot");
    await vc.close();
    assert.deepEqual(node.problems, []);
    const later = node.attestations.filter((a) => a.value.data.slot > startSlot);
    for (const a of later) {
      const slot = a.value.data.slot;
      // one third of a 3 s slot is 1 s; the head event comes at 150 ms
      const ms = node.msSinceSlotStart(slot, a.at);
      assert.ok(ms < node.slotMs() / 3, `published ${ms} ms into slot ${slot}`);
      assert.equal(hex(a.value.data.beaconBlockRoot), hex(node.blockRoot(slot)), "votes for the new head");
    }
  });

  it("aggregates at two thirds of the slot exactly when selected", async () => {
    // committees reported as 64 long: one in four members is selected on average (TARGET_AGGREGATORS_PER_COMMITTEE 16)
    const keys = Array.from({ length: 32 }, (_, i) => i);
    const { node, vc } = await setup({ secondsPerSlot: 0.6, validatorCount: 32, keys, headEventFraction: 0.1, committeeLength: 64 });
    const startSlot = vc.clock.currentSlot();
    await waitFor(() => node.attestations.some((a) => a.value.data.slot >= startSlot + 9), 15_000, "attestations over 9 slots");
    // let the last slot's aggregation time pass
    await waitFor(() => node.currentSlot() > startSlot + 9, 5_000, "the end of the slot");
    await vc.close();
    assert.deepEqual(node.problems, []);

    const domain = computeDomain(config, config.DOMAIN_SELECTION_PROOF, config.GENESIS_FORK_VERSION, node.genesisValidatorsRoot);
    const expected: string[] = [];
    const notSelected: string[] = [];
    for (const a of node.attestations) {
      const slot = a.value.data.slot;
      if (slot >= startSlot + 8) continue;
      const proof = sign(interopSecretKey(a.validatorIndex), computeSigningRoot(config, primitive.Slot, slot, domain));
      (isAggregator(config, 64, proof) ? expected : notSelected).push(`${slot}:${a.validatorIndex}`);
    }
    assert.ok(expected.length > 0 && notSelected.length > 0, `selected ${expected.length}, not selected ${notSelected.length}`);
    const got = node.aggregates.map((g) => `${g.value.message.aggregate.data.slot}:${g.validatorIndex}`).filter((k) => Number(k.split(":")[0]) < startSlot + 8);
    assert.deepEqual(got.sort(), expected.sort());
    for (const g of node.aggregates) {
      const ms = node.msSinceSlotStart(g.value.message.aggregate.data.slot, g.at);
      assert.ok(ms >= (2 * node.slotMs()) / 3, `aggregate published ${ms} ms into its slot`);
    }
  });
});
