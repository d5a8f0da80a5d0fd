// The hand-written SSZ paths of src/types (Validator's serialize/deserialize/hash, the one-leaf Bytes32, the
// batched hashing of the state tree) against ssz's generic types on random and edge values: same bytes, same
// values, same roots.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Node } from "@chainsafe/persistent-merkle-tree";
import { ByteVectorType, ContainerNodeStructType, type ByteViews } from "@chainsafe/ssz";
import { FAR_FUTURE_EPOCH, minimalConfig } from "../../src/params/index.js";
import { hashTreeBatched } from "../../src/types/hashTree.js";
import { getTypes, primitive, type BeaconState, type Validator } from "../../src/types/index.js";
import { hashValidatorNodes, validatorFields, ValidatorNode, ValidatorNodeStructType } from "../../src/types/validator.js";
import { createPrng } from "../../src/util/prng.js";

const generic = new ContainerNodeStructType(validatorFields, { typeName: "Validator", jsonCase: "snake" });
const fast = new ValidatorNodeStructType();
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The bytes `type` writes for a tree node (the path a ViewDU's serialize takes). */
function treeBytes(type: { tree_serializeToBytes(o: ByteViews, offset: number, node: Node): number }, node: Node, size: number): Uint8Array {
  const uint8Array = new Uint8Array(size);
  type.tree_serializeToBytes({ uint8Array, dataView: new DataView(uint8Array.buffer) }, 0, node);
  return uint8Array;
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

/** Random validators, with the edge values mixed in field by field. */
function randomValidators(seed: number, count: number): Validator[] {
  const rand = createPrng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const epoch = () => pick([0, 1, FAR_FUTURE_EPOCH, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, Math.floor(rand() * 2 ** 40)]);
  const balance = () => pick([0, 1, 32e9, 31e9, 2 ** 53 - 1, Math.floor(rand() * 33e9)]);
  return Array.from({ length: count }, () => ({
    pubkey: pick([new Uint8Array(48), new Uint8Array(48).fill(0xff), randomBytes(rand, 48)]),
    withdrawalCredentials: pick([new Uint8Array(32), randomBytes(rand, 32)]),
    effectiveBalance: balance(),
    slashed: rand() < 0.5,
    activationEligibilityEpoch: epoch(),
    activationEpoch: epoch(),
    exitEpoch: epoch(),
    withdrawableEpoch: epoch(),
  }));
}

test("Validator: fast serialize, deserialize and roots equal the generic container's", () => {
  const validators = randomValidators(1, 600);
  validators.push({
    pubkey: new Uint8Array(48),
    withdrawalCredentials: new Uint8Array(32),
    effectiveBalance: 0,
    slashed: false,
    activationEligibilityEpoch: 0,
    activationEpoch: 0,
    exitEpoch: 0,
    withdrawableEpoch: 0,
  });
  validators.push({
    pubkey: new Uint8Array(48).fill(0xff),
    withdrawalCredentials: new Uint8Array(32).fill(0xff),
    effectiveBalance: 32e9,
    slashed: true,
    activationEligibilityEpoch: FAR_FUTURE_EPOCH,
    activationEpoch: FAR_FUTURE_EPOCH,
    exitEpoch: FAR_FUTURE_EPOCH,
    withdrawableEpoch: FAR_FUTURE_EPOCH,
  });
  for (const v of validators) {
    const bytes = generic.serialize(v);
    assert.equal(hex(fast.serialize(v)), hex(bytes));
    assert.deepEqual(fast.deserialize(bytes), generic.deserialize(bytes));
    const root = hex(generic.hashTreeRoot(v));
    assert.equal(hex(fast.hashTreeRoot(v)), root);
    assert.equal(hex(generic.value_toTree(v).root), root);
    assert.equal(hex(fast.value_toTree(v).root), root);
    const node = fast.deserializeToViewDU(bytes).node;
    assert.ok(node instanceof ValidatorNode);
    assert.equal(hex(node.root), root);
    // Tree walks (proofs) see the generic subtree.
    const g = generic.value_toTree(v);
    assert.equal(hex(fast.value_toTree(v).left.root), hex(g.left.root));
    assert.equal(hex(fast.value_toTree(v).right.root), hex(g.right.root));
    assert.equal(hex(treeBytes(fast, node, 121)), hex(bytes));
  }
  // Decoding from a Buffer copies the bytes, as the generic path does (Buffer.prototype.slice would not).
  const buf = Buffer.from(generic.serialize(validators[0]));
  const decoded = fast.deserialize(buf);
  buf.fill(0xaa);
  assert.equal(hex(decoded.pubkey), hex(validators[0].pubkey));
  assert.equal(hex(decoded.withdrawalCredentials), hex(validators[0].withdrawalCredentials));
  // Many at once (more than one batch), some already hashed.
  const nodes = validators.map((v) => fast.value_toTree(v) as ValidatorNode);
  void nodes[3].root;
  hashValidatorNodes(nodes);
  nodes.forEach((n, i) => assert.equal(hex(n.root), hex(generic.hashTreeRoot(validators[i])), `validator ${i}`));
});

test("Validator: an effective balance of Infinity hashes as ssz's tree path stores it", () => {
  const v = { ...randomValidators(2, 1)[0], effectiveBalance: Infinity };
  assert.equal(hex(fast.value_toTree(v).root), hex(generic.value_toTree(v).root));
  assert.equal(hex(fast.serialize(v)), hex(generic.serialize(v)));
});

test("Validator: bad bytes are refused as by the generic container", () => {
  const bytes = generic.serialize(randomValidators(3, 1)[0]);
  assert.throws(() => fast.deserialize(bytes.subarray(0, 120)), /invalid size/);
  assert.throws(() => generic.deserialize(bytes.subarray(0, 120)));
  const badBool = bytes.slice();
  badBool[88] = 2;
  assert.throws(() => fast.deserialize(badBool), /Boolean: invalid value: 2/);
  assert.throws(() => generic.deserialize(badBool), /Boolean: invalid value: 2/);
});

test("Bytes32 reads and writes trees as ByteVectorType(32) does", () => {
  const rand = createPrng(4);
  const ref = new ByteVectorType(32);
  for (let i = 0; i < 200; i++) {
    const bytes = i === 0 ? new Uint8Array(32).fill(0xff) : randomBytes(rand, 32);
    const tree = primitive.Bytes32.tree_deserializeFromBytes({ uint8Array: bytes, dataView: new DataView(bytes.buffer) }, 0, 32);
    const refTree = ref.value_toTree(bytes);
    assert.ok(tree.isLeaf());
    assert.equal(hex(tree.root), hex(refTree.root));
    assert.equal(hex(treeBytes(primitive.Bytes32, refTree, 32)), hex(bytes));
    assert.equal(hex(treeBytes(primitive.Bytes32, tree, 32)), hex(treeBytes(ref, tree, 32)));
  }
  assert.throws(() => primitive.Bytes32.deserialize(new Uint8Array(31)));
});

test("BeaconState: tree serialize, deserialize and batched hashTreeRoot equal the value path", () => {
  const t = getTypes(minimalConfig);
  const rand = createPrng(5);
  const state: BeaconState = t.BeaconState.defaultValue();
  state.slot = 1234;
  state.validators = randomValidators(6, 700);
  state.balances = state.validators.map((_, i) => (i % 7 === 0 ? 0 : 32e9 + Math.floor(rand() * 1e9)));
  state.randaoMixes = state.randaoMixes.map(() => randomBytes(rand, 32));
  state.blockRoots = state.blockRoots.map(() => randomBytes(rand, 32));
  state.slashings = state.slashings.map((_, i) => i * 1e9);
  // The value path (ContainerType.hashTreeRoot on values) is ssz's generic merkleization.
  const root = hex(t.BeaconState.hashTreeRoot(state));
  const bytes = t.BeaconState.serialize(state);

  const view = t.BeaconState.deserializeToViewDU(bytes);
  assert.equal(hex(view.serialize()), hex(bytes));
  assert.deepEqual(view.toValue(), state);
  assert.equal(hex(view.hashTreeRoot()), root);
  // The library's own per-node recursion reaches the same root on a fresh tree.
  assert.equal(hex(t.BeaconState.deserializeToViewDU(bytes).node.root), root);

  // Incremental: change some validators, balances and mixes; only the new nodes are hashed.
  const changed = view.clone();
  for (const i of [0, 255, 256, 699]) {
    const v = changed.validators.get(i);
    v.slashed = !v.slashed;
    v.exitEpoch = i;
    state.validators[i] = { ...state.validators[i], slashed: !state.validators[i].slashed, exitEpoch: i };
  }
  changed.balances.set(3, 5);
  state.balances[3] = 5;
  changed.randaoMixes.set(7, new Uint8Array(32).fill(9));
  state.randaoMixes[7] = new Uint8Array(32).fill(9);
  changed.validators.push(t.Validator.toViewDU(randomValidators(7, 1)[0]));
  state.validators.push(randomValidators(7, 1)[0]);
  changed.balances.push(1);
  state.balances.push(1);
  assert.equal(hex(changed.hashTreeRoot()), hex(t.BeaconState.hashTreeRoot(state)));
  assert.equal(hex(changed.serialize()), hex(t.BeaconState.serialize(state)));
  // The original view is untouched.
  assert.equal(hex(view.hashTreeRoot()), root);

  // The registry and the roots vectors refuse bytes of the wrong size, as the generic array types do.
  const views = (b: Uint8Array) => ({ uint8Array: b, dataView: new DataView(b.buffer, b.byteOffset, b.byteLength) });
  assert.throws(() => t.BeaconState.fields.validators.tree_deserializeFromBytes(views(new Uint8Array(242)), 0, 241), /not multiple/);
  assert.throws(() => t.BeaconState.fields.randaoMixes.tree_deserializeFromBytes(views(new Uint8Array(64 * 32)), 0, 64 * 32 - 32), /invalid size/);
  assert.throws(() => t.BeaconState.deserialize(bytes.subarray(0, bytes.length - 1)));

  // hashTreeBatched on an already hashed tree changes nothing.
  hashTreeBatched(view.node);
  assert.equal(hex(view.node.root), root);
});
