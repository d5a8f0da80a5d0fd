import assert from "node:assert/strict";
import { test } from "node:test";
import { interopSecretKey, interopSecretKeyBytes } from "../../src/crypto/interop.js";
import { getNamedConfig } from "../../src/config/index.js";
import { createInteropGenesisState, isValidGenesisState } from "../../src/state-transition/index.js";
import { plainHex as hex } from "../utils/bytes.js";

// Published interop keys (the same in every client's interop tooling).
test("interop secret keys and pubkeys match the published values", () => {
  assert.equal(hex(interopSecretKeyBytes(0)), "25295f0d1d592a90b333e26e85149708208e9f8e8bc18f6c77bd62f8ad7a6866");
  assert.equal(hex(interopSecretKeyBytes(1)), "51d0b65185db6989ab0b560d6deed19c7ead0e24b9b6372cbecb1f26bdfad000");
  assert.equal(hex(interopSecretKeyBytes(2)), "315ed405fafe339603932eebe8dbfd650ce5dafa561f6928664c75db85f97857");
  assert.equal(
    interopSecretKey(0).toPublicKey().toHex(),
    "0xa99a76ed7796f7be22d5b7e85deeb7c5677e88e511e0b337618f8c4eb61349b4bf2d153f649f7b53359fe8b94a38e44c",
  );
});

test("interop genesis activates every validator through real deposits", () => {
  const c = getNamedConfig("minimal");
  const state = createInteropGenesisState(c, 64, c.MIN_GENESIS_TIME);
  assert.equal(state.validators.length, 64);
  assert.equal(state.eth1DepositIndex, 64);
  for (let i = 0; i < 64; i++) {
    const v = state.validators.getReadonly(i);
    assert.equal(v.activationEpoch, 0);
    assert.equal(v.effectiveBalance, c.MAX_EFFECTIVE_BALANCE);
  }
  assert.ok(isValidGenesisState(c, state));
  const tooFew = createInteropGenesisState(c, 8, c.MIN_GENESIS_TIME);
  assert.ok(!isValidGenesisState(c, tooFew), "8 validators are below MIN_GENESIS_ACTIVE_VALIDATOR_COUNT");
});

test("the fast interop genesis builds exactly the state the spec's genesis does", async () => {
  const { createInteropGenesisStateFast } = await import("../../src/state-transition/index.js");
  const c = getNamedConfig("minimal");
  const slow = createInteropGenesisState(c, 64, c.MIN_GENESIS_TIME + c.GENESIS_DELAY);
  const fast = createInteropGenesisStateFast(c, 64, c.MIN_GENESIS_TIME + c.GENESIS_DELAY);
  assert.equal(hex(fast.hashTreeRoot()), hex(slow.hashTreeRoot()));
});
