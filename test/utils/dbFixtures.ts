// Deterministic blocks and states for the database tests (shared with the kill -9 writer child process).
import { BitArray } from "@chainsafe/ssz";
import type { BeaconConfig } from "../../src/config/index.js";
import type { SignedBeaconBlock } from "../../src/types/index.js";

/** A SignedBeaconBlock at `slot` with variable-size content (an attestation, an exit) and a seed-dependent body. */
export function makeBlock(config: BeaconConfig, slot: number, seed = slot): SignedBeaconBlock {
  const t = config.types;
  const block = t.SignedBeaconBlock.defaultValue();
  block.message.slot = slot;
  block.message.proposerIndex = seed % 64;
  block.message.parentRoot = new Uint8Array(32).fill((seed * 7) & 0xff);
  block.message.stateRoot = new Uint8Array(32).fill((seed * 13) & 0xff);
  const graffiti = new Uint8Array(32);
  new DataView(graffiti.buffer).setFloat64(0, seed);
  block.message.body.graffiti = graffiti;
  block.message.body.attestations = [
    {
      aggregationBits: BitArray.fromBoolArray([true, false, seed % 2 === 0, true]),
      data: {
        slot: Math.max(0, slot - 1),
        index: 0,
        beaconBlockRoot: new Uint8Array(32).fill(seed & 0xff),
        source: { epoch: 0, root: new Uint8Array(32) },
        target: { epoch: 1, root: new Uint8Array(32).fill(1) },
      },
      signature: new Uint8Array(96).fill(0xab),
    },
  ];
  block.message.body.voluntaryExits = [{ message: { epoch: 3, validatorIndex: seed }, signature: new Uint8Array(96).fill(2) }];
  block.signature = new Uint8Array(96).fill(seed & 0xff);
  return block;
}

export function blockRoot(config: BeaconConfig, block: SignedBeaconBlock): Uint8Array {
  return config.types.BeaconBlock.hashTreeRoot(block.message);
}

/** Real BeaconState SSZ at `slot` with `validatorCount` validators (balances and pubkeys depend on the seed). */
export function makeStateBytes(config: BeaconConfig, slot: number, validatorCount = 16, seed = slot): Uint8Array {
  const t = config.types;
  const state = t.BeaconState.defaultValue();
  state.slot = slot;
  state.genesisTime = 1_600_000_000;
  for (let i = 0; i < validatorCount; i++) {
    state.validators.push({
      pubkey: new Uint8Array(48).fill((i + seed) & 0xff),
      withdrawalCredentials: new Uint8Array(32),
      effectiveBalance: 32e9,
      slashed: false,
      activationEligibilityEpoch: 0,
      activationEpoch: 0,
      exitEpoch: Infinity,
      withdrawableEpoch: Infinity,
    });
    state.balances.push(32e9 + seed + i);
  }
  return t.BeaconState.serialize(state);
}

/** Patches the slot of BeaconState SSZ bytes in place (genesisTime 8 ‖ genesisValidatorsRoot 32 ‖ slot 8 LE). */
export function setStateSlot(bytes: Uint8Array, slot: number): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  dv.setUint32(40, slot >>> 0, true);
  dv.setUint32(44, Math.floor(slot / 2 ** 32), true);
}

// --- kill -9 test: what batch i of the writer child holds ----------------------------------------------------------

export const KILL_TEST_VALIDATORS = 2048;

export interface KillBatch {
  slot: number;
  root: Uint8Array;
  block: SignedBeaconBlock;
  state: Uint8Array;
}

/** Batch i: the block at slot i+1, its root, and a ~250 KB state whose bytes depend on i. */
export function killTestBatch(config: BeaconConfig, stateTemplate: Uint8Array, i: number): KillBatch {
  const slot = i + 1;
  const block = makeBlock(config, slot, i);
  const state = Uint8Array.from(stateTemplate);
  setStateSlot(state, slot);
  // mark the tail too (the last validator's balance region), so a torn value would not match
  state.fill(i & 0xff, state.length - 64);
  return { slot, root: blockRoot(config, block), block, state };
}
