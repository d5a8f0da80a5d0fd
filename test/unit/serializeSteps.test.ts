// The state serialized in steps (between fields, and the registry in slices, for the event loop's sake) must be
// byte for byte the state's own serialization: hot-state files and the finalized anchor are written this way, and
// a restart reads them back with the ordinary deserializer.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BitArray } from "@chainsafe/ssz";
import { serializeStateYielding } from "../../src/chain/archiver.js";
import { getNamedConfig } from "../../src/config/index.js";
import { createCachedBeaconState, createInteropGenesisStateFast } from "../../src/state-transition/index.js";
import { serializeContainerSteps } from "../../src/types/serializeSteps.js";

const config = getNamedConfig("minimal");

test("a state serialized in steps is byte for byte its serialization, and round-trips", async () => {
  const cached = createCachedBeaconState(config, createInteropGenesisStateFast(config, 64, config.MIN_GENESIS_TIME, { signDeposits: false }));
  const s = cached.state;
  // past two slices of the registry (16,384 validators each), each validator different
  const v0 = s.validators.getReadonly(0).toValue();
  for (let i = 0; i < 40_000; i++) {
    const pubkey = new Uint8Array(48);
    pubkey[0] = i & 0xff;
    pubkey[1] = (i >> 8) & 0xff;
    pubkey[2] = i >> 16;
    s.validators.push(config.types.Validator.toViewDU({ ...v0, pubkey, exitEpoch: i, slashed: i % 7 === 0 } as never));
    s.balances.push(32e9 + i);
  }
  // variable-size fields before and after the registry hold something
  s.historicalRoots.push(new Uint8Array(32).fill(9));
  s.eth1DataVotes.push(config.types.Eth1Data.toViewDU({ depositRoot: new Uint8Array(32).fill(1), depositCount: 5n, blockHash: new Uint8Array(32).fill(2) }));
  const att = config.types.PendingAttestation.defaultValue();
  att.aggregationBits = BitArray.fromBoolArray([true, false, true]);
  att.inclusionDelay = 3;
  s.currentEpochAttestations.push(config.types.PendingAttestation.toViewDU(att));
  s.commit();

  const expected = s.serialize();
  const out = new Uint8Array(expected.length);
  const steps = serializeContainerSteps(s.type, s.node, { uint8Array: out, dataView: new DataView(out.buffer) }, 0);
  let stops = 0;
  let r = steps.next();
  while (!r.done) {
    stops++;
    r = steps.next();
  }
  assert.equal(r.value, expected.length);
  assert.ok(stops >= s.type.fieldsEntries.length - 1 + 2, `stopped ${stops} times: between fields and inside the registry`);
  assert.deepEqual(out, expected);

  const yielding = await serializeStateYielding(cached);
  assert.deepEqual(yielding, expected);
  // into a larger reused buffer's prefix, as the hot-state store does
  const big = new Uint8Array(expected.length + 100).fill(0xee);
  await serializeStateYielding(cached, big.subarray(0, expected.length));
  assert.deepEqual(big.subarray(0, expected.length), expected);
  assert.equal(config.types.BeaconState.deserialize(yielding).validators.length, 40_064);
});
