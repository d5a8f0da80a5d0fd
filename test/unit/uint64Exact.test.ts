// uint64 values that v0.12.3 accepts at any size (src/types/primitive.ts): eth1 deposit counts and the slots and
// epochs inside slashings. Every message here is built and signed with a generic SSZ type (every uint64 a bigint,
// the spec's exact values) and reaches Cairn as bytes, as from the network; Cairn must judge it as the spec does.
// The values Cairn keeps as numbers are refused from 2^53 on, as the spec refuses them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BitArray } from "@chainsafe/ssz";
import { fromJsonStrict } from "../../src/api/json.js";
import { getNamedConfig } from "../../src/config/index.js";
import { aggregateSignatures, sign } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import {
  StateTransitionError,
  UnsupportedValueError,
  createCachedBeaconState,
  createInteropGenesisState,
  processAttestation,
  processAttesterSlashing,
  processBlock,
  processDeposit,
  processOperations,
  processProposerSlashing,
  processSlots,
  processVoluntaryExit,
  stateTransition,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { computeDomain, computeSigningRoot, getDomain } from "../../src/state-transition/util/domain.js";
import { primitive } from "../../src/types/index.js";
import { toHex } from "../../src/util/bytes.js";
import { bigintTwin } from "../spec/runners/sszStatic.js";

const c = getNamedConfig("minimal");
const t = c.types;
const VALIDATORS = 64;
const MAX = 2n ** 64n - 1n;

// values of the generic (all-bigint) types, built field by field
type Value = any;
interface Ssz {
  serialize(v: Value): Uint8Array;
  deserialize(b: Uint8Array): Value;
  hashTreeRoot(v: Value): Uint8Array;
  defaultValue(): Value;
}
/** The generic type: Cairn's type with every uint64 a bigint (as the spec tests' exact check). */
const exact = (type: unknown): Ssz => bigintTwin(type as never) as unknown as Ssz;
/** An exact value as Cairn decodes it from its bytes. */
const decoded = (type: unknown, value: Value): Value => (type as Ssz).deserialize(exact(type).serialize(value));

let genesisState: CachedBeaconState | undefined;
function genesis(): CachedBeaconState {
  genesisState ??= createCachedBeaconState(c, createInteropGenesisState(c, VALIDATORS, 1_600_000_000));
  return genesisState.clone(true);
}

/** The domain from the state's fork (genesis: current version at every epoch), computed without Cairn's get_domain. */
function domainOf(s: CachedBeaconState, domainType: Uint8Array): Uint8Array {
  return computeDomain(c, domainType, s.state.fork.currentVersion, s.state.genesisValidatorsRoot);
}

function signingRoot(type: unknown, value: Value, domain: Uint8Array): Uint8Array {
  return t.SigningData.hashTreeRoot({ objectRoot: exact(type).hashTreeRoot(value), domain });
}

function roots(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

function signedHeader(s: CachedBeaconState, proposer: number, slot: bigint, bodyByte: number): Value {
  const message = { slot, proposerIndex: BigInt(proposer), parentRoot: roots(1), stateRoot: roots(2), bodyRoot: roots(bodyByte) };
  const root = signingRoot(t.BeaconBlockHeader, message, domainOf(s, c.DOMAIN_BEACON_PROPOSER));
  return { message, signature: sign(interopSecretKey(proposer), root) };
}

interface Vote {
  slot: bigint;
  index: bigint;
  source: bigint;
  target: bigint;
  block: number;
}
function indexedAttestation(s: CachedBeaconState, indices: number[], v: Vote): Value {
  const data = {
    slot: v.slot,
    index: v.index,
    beaconBlockRoot: roots(v.block),
    source: { epoch: v.source, root: roots(3) },
    target: { epoch: v.target, root: roots(4) },
  };
  const root = signingRoot(t.AttestationData, data, domainOf(s, c.DOMAIN_BEACON_ATTESTER));
  const signature = aggregateSignatures(indices.map((i) => sign(interopSecretKey(i), root)));
  return { attestingIndices: indices.map(BigInt), data, signature };
}

function rejects(fn: () => void, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof StateTransitionError && message.test(e.message));
}

describe("uint64 at or above 2^53 where the spec accepts any value", () => {
  test("a block voting eth1 deposit_count 2^53+1 is valid, and its post-state holds the vote exactly", () => {
    const vote = 2n ** 53n + 1n;
    const pre = genesis();
    const slot = 1;
    const scratch = pre.clone();
    processSlots(scratch, slot);
    const proposer = scratch.epochCtx.getBeaconProposer(slot);
    const sk = interopSecretKey(proposer);
    const block = exact(t.BeaconBlock).defaultValue();
    block.slot = BigInt(slot);
    block.proposerIndex = BigInt(proposer);
    block.parentRoot = scratch.state.latestBlockHeader.hashTreeRoot();
    block.body.randaoReveal = sign(sk, computeSigningRoot(c, primitive.Epoch, 0, domainOf(scratch, c.DOMAIN_RANDAO)));
    block.body.eth1Data = { depositRoot: roots(5), depositCount: vote, blockHash: roots(6) };
    processBlock(scratch, decoded(t.BeaconBlock, block), false);
    block.stateRoot = scratch.state.hashTreeRoot();
    const signature = sign(sk, signingRoot(t.BeaconBlock, block, domainOf(pre, c.DOMAIN_BEACON_PROPOSER)));
    const bytes = exact(t.SignedBeaconBlock).serialize({ message: block, signature });

    // with signatures and the state root checked
    const signed = t.SignedBeaconBlock.deserialize(bytes);
    assert.equal(toHex(t.BeaconBlock.hashTreeRoot(signed.message)), toHex(exact(t.BeaconBlock).hashTreeRoot(block)));
    const post = stateTransition(pre, signed);

    const postBytes = post.state.serialize();
    const postExact = exact(t.BeaconState).deserialize(postBytes);
    assert.equal(postExact.eth1DataVotes.at(-1).depositCount, vote);
    assert.equal(toHex(post.state.hashTreeRoot()), toHex(exact(t.BeaconState).hashTreeRoot(postExact)));
    // the state re-read from its bytes (as from the database) is the same state
    const again = t.BeaconState.deserializeToViewDU(postBytes);
    assert.deepEqual(again.serialize(), postBytes);
    assert.equal(toHex(again.hashTreeRoot()), toHex(post.state.hashTreeRoot()));
    assert.deepEqual(t.BeaconState.serialize(t.BeaconState.deserialize(postBytes)), postBytes);
  });

  test("process_operations counts deposits owed against any deposit_count, and refuses one below the index", () => {
    const s = genesis();
    s.state.eth1Data.depositCount = (2n ** 53n + 1n) as never;
    const block = { ...t.BeaconBlock.defaultValue(), slot: 0 };
    rejects(() => processOperations(s, block), /0 deposits, expected 16/);
    s.state.eth1Data.depositCount = BigInt(VALIDATORS - 1) as never;
    rejects(() => processOperations(s, block), /below eth1_deposit_index/);
  });

  test("proposer slashing: two headers at slot 2^60+1 signed by one validator slash it; 2^60+1 against 2^60+2 do not", () => {
    const s = genesis();
    const slot = 2n ** 60n + 1n;
    const slashing = { signedHeader1: signedHeader(s, 5, slot, 7), signedHeader2: signedHeader(s, 5, slot, 8) };
    processProposerSlashing(s, decoded(t.ProposerSlashing, slashing), true);
    assert.equal(s.state.validators.getReadonly(5).slashed, true);

    const s2 = genesis();
    const apart = { signedHeader1: signedHeader(s2, 6, slot, 7), signedHeader2: signedHeader(s2, 6, slot + 1n, 7) };
    rejects(() => processProposerSlashing(s2, decoded(t.ProposerSlashing, apart), true), /different slots/);
    assert.equal(s2.state.validators.getReadonly(6).slashed, false);
  });

  test("attester slashing: a double vote at absurd slot, index and epochs slashes the voters", () => {
    const s = genesis();
    const v = { slot: 2n ** 63n + 7n, index: MAX, source: 2n ** 61n + 3n, target: 2n ** 62n + 5n };
    const slashing = {
      attestation1: indexedAttestation(s, [1, 2, 3], { ...v, block: 1 }),
      attestation2: indexedAttestation(s, [2, 3, 4], { ...v, block: 2 }),
    };
    processAttesterSlashing(s, decoded(t.AttesterSlashing, slashing), true);
    assert.deepEqual([1, 2, 3, 4].map((i) => s.state.validators.getReadonly(i).slashed), [false, true, true, false]);

    // targets 2^60+1 and 2^60+2 (equal when rounded): neither a double nor a surround vote
    const s2 = genesis();
    const w = { slot: 0n, index: 0n, source: 2n ** 60n, block: 1 };
    const notSlashable = {
      attestation1: indexedAttestation(s2, [1, 2], { ...w, target: 2n ** 60n + 1n }),
      attestation2: indexedAttestation(s2, [1, 2], { ...w, target: 2n ** 60n + 2n, block: 2 }),
    };
    rejects(() => processAttesterSlashing(s2, decoded(t.AttesterSlashing, notSlashable), true), /not slashable/);
  });

  test("Eth1Data, ProposerSlashing, AttesterSlashing, a body and a state with values up to 2^64-1 decode and encode exactly (SSZ and API JSON)", () => {
    const s = genesis();
    const big = [2n ** 53n, 2n ** 53n + 1n, 2n ** 63n + 1n, MAX];
    const eth1 = big.map((n) => ({ depositRoot: roots(1), depositCount: n, blockHash: roots(2) }));
    const proposerSlashings = big.map((n) => ({ signedHeader1: signedHeader(s, 1, n, 1), signedHeader2: signedHeader(s, 1, MAX - n, 2) }));
    const attesterSlashings = [
      { attestation1: indexedAttestation(s, [1], { slot: MAX, index: MAX, source: MAX, target: MAX, block: 1 }), attestation2: indexedAttestation(s, [1], { slot: big[1]!, index: big[0]!, source: big[2]!, target: 0n, block: 2 }) },
    ];
    const body = { ...exact(t.BeaconBlockBody).defaultValue(), eth1Data: eth1[1], proposerSlashings: proposerSlashings.slice(0, 1), attesterSlashings };
    const state = exact(t.BeaconState).deserialize(s.state.serialize());
    state.eth1Data = eth1[3];
    state.eth1DataVotes = eth1;

    const cases: [string, unknown, Value][] = [
      ...eth1.map((v): [string, unknown, Value] => ["Eth1Data", t.Eth1Data, v]),
      ...proposerSlashings.map((v): [string, unknown, Value] => ["ProposerSlashing", t.ProposerSlashing, v]),
      ["AttesterSlashing", t.AttesterSlashing, attesterSlashings[0]],
      ["BeaconBlockBody", t.BeaconBlockBody, body],
      ["BeaconState", t.BeaconState, state],
    ];
    for (const [name, type, value] of cases) {
      const bytes = exact(type).serialize(value);
      const root = toHex(exact(type).hashTreeRoot(value));
      const ssz = type as Ssz & { deserializeToViewDU(b: Uint8Array): { serialize(): Uint8Array; hashTreeRoot(): Uint8Array } };
      const v = ssz.deserialize(bytes);
      assert.deepEqual(ssz.serialize(v), bytes, `${name}: value round trip`);
      assert.equal(toHex(ssz.hashTreeRoot(v)), root, `${name}: value root`);
      const view = ssz.deserializeToViewDU(bytes);
      assert.deepEqual(view.serialize(), bytes, `${name}: tree round trip`);
      assert.equal(toHex(view.hashTreeRoot()), root, `${name}: tree root`);
      if (name !== "BeaconState") {
        // the Beacon API's JSON (uint64 as decimal strings), read back strictly
        const json = (type as { toJson(v: Value): unknown }).toJson(v);
        assert.deepEqual(ssz.serialize(fromJsonStrict(type as never, json)), bytes, `${name}: JSON round trip`);
      }
    }
  });
});

describe("uint64 held as numbers: the spec refuses 2^53 and above there, and so does Cairn", () => {
  const unsafe = 2n ** 53n + 1n;

  test("a slashing header's proposer index must be a validator", () => {
    const s = genesis();
    const h = (bodyByte: number) => ({ message: { slot: 1n, proposerIndex: unsafe, parentRoot: roots(1), stateRoot: roots(2), bodyRoot: roots(bodyByte) }, signature: new Uint8Array(96) });
    rejects(() => processProposerSlashing(s, decoded(t.ProposerSlashing, { signedHeader1: h(1), signedHeader2: h(2) }), false), /unknown validator/);
  });

  test("an attestation with a slot, index or epoch at 2^53 or above is refused", () => {
    const s = genesis();
    processSlots(s, 2);
    const committee = s.epochCtx.getBeaconCommittee(1, 0);
    const aggregationBits = BitArray.fromBoolArray(Array.from(committee, (_, i) => i === 0));
    const att = (edit: Partial<Vote>) => {
      const v = { slot: 1n, index: 0n, source: 0n, target: 0n, ...edit };
      const data = { slot: v.slot, index: v.index, beaconBlockRoot: roots(1), source: { epoch: v.source, root: new Uint8Array(32) }, target: { epoch: v.target, root: roots(4) } };
      return decoded(t.Attestation, { aggregationBits, data, signature: new Uint8Array(96) });
    };
    processAttestation(s.clone(true), att({}), false); // valid but for the signature
    for (const edit of [{ slot: unsafe }, { index: unsafe }, { source: unsafe }, { target: unsafe }, { target: MAX }]) {
      assert.throws(() => processAttestation(s.clone(true), att(edit), false), StateTransitionError, Object.keys(edit)[0]);
    }
  });

  test("a voluntary exit at epoch 2^53 or above, or of validator 2^53 or above, is refused", () => {
    const s = genesis();
    const exit = (message: { epoch: bigint; validatorIndex: bigint }) => decoded(t.SignedVoluntaryExit, { message, signature: new Uint8Array(96) });
    // (the checks run in the spec's order: these fail before "not active long enough", which genesis validators are)
    rejects(() => processVoluntaryExit(s, exit({ epoch: unsafe, validatorIndex: 1n }), false), /epoch in the future/);
    rejects(() => processVoluntaryExit(s, exit({ epoch: 0n, validatorIndex: unsafe }), false), /unknown validator/);
    rejects(() => processVoluntaryExit(s, exit({ epoch: 0n, validatorIndex: 1n }), false), /not active long enough/);
  });

  test("a deposit of 2^53 Gwei or more is refused with UnsupportedValueError, changing nothing", () => {
    const s = genesis();
    const before = toHex(s.state.hashTreeRoot());
    const deposit = exact(t.Deposit).defaultValue();
    deposit.data = { pubkey: new Uint8Array(48), withdrawalCredentials: roots(0), amount: unsafe, signature: new Uint8Array(96) };
    assert.throws(() => processDeposit(s, decoded(t.Deposit, deposit)), UnsupportedValueError);
    assert.equal(toHex(s.state.hashTreeRoot()), before);
  });

  test("get_domain takes a slashing's epoch as a bigint", () => {
    const s = genesis();
    assert.equal(toHex(getDomain(c, s.state, c.DOMAIN_BEACON_ATTESTER, MAX)), toHex(domainOf(s, c.DOMAIN_BEACON_ATTESTER)));
  });
});
