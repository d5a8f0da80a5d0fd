// The Validator container with fixed-layout fast paths. The registry is the bulk of a state (121 bytes and 8
// chunks per validator), and ssz's generic container code walks the 8 fields one by one, allocates a field-range
// array per validator on decode, and builds (then drops) a 15-node tree to hash each one. The layout below is the
// spec's (phase0 `Validator`): fixed size, so serialization is a sequence of writes at known offsets, and the hash
// tree root is the merkleization of 8 chunks whose first is the root of the 48-byte pubkey. ValidatorListType is the
// registry list built on it.
import { byteArrayIntoHashObject } from "@chainsafe/as-sha256";
import { BranchNode, getNodesAtDepth, hashInto, LeafNode, subtreeFillToContents, type Node } from "@chainsafe/persistent-merkle-tree";
import {
  BranchNodeStruct,
  ContainerNodeStructType,
  ContainerType,
  ListCompositeTreeViewDU,
  ListCompositeType,
  type ByteViews,
  type ValueOf,
} from "@chainsafe/ssz";
import * as p from "./primitive.js";

export const validatorFields = {
  pubkey: p.BLSPubkey,
  withdrawalCredentials: p.Bytes32,
  effectiveBalance: p.Gwei,
  slashed: p.Boolean,
  activationEligibilityEpoch: p.Epoch,
  activationEpoch: p.Epoch,
  exitEpoch: p.Epoch,
  withdrawableEpoch: p.Epoch,
};
type ValidatorValue = ValueOf<ContainerNodeStructType<typeof validatorFields>>;

/** Serialized size of a Validator: 48 + 32 + 8 + 1 + 4 * 8. */
export const VALIDATOR_SIZE = 121;
const TWO_POW_32 = 2 ** 32;

// uint64 as ssz's UintNumberType(8) writes it (little-endian; Infinity as 2^64-1 whether or not the type clips),
// so the bytes are identical to the generic path's.
function writeUint64(dv: DataView, offset: number, value: number): void {
  if (value === Infinity) {
    dv.setUint32(offset, 0xffffffff);
    dv.setUint32(offset + 4, 0xffffffff);
  } else {
    dv.setUint32(offset, value & 0xffffffff, true);
    dv.setUint32(offset + 4, (value / TWO_POW_32) & 0xffffffff, true);
  }
}

/** uint64 as a number; `clip`: 2^64-1 reads as Infinity (epochs, see primitive.ts). */
function readUint64(dv: DataView, offset: number, clip: boolean): number {
  const lo = dv.getUint32(offset, true);
  const hi = dv.getUint32(offset + 4, true);
  if (clip && hi === 0xffffffff && lo === 0xffffffff) return Infinity;
  return hi * TWO_POW_32 + lo;
}

/** A copy of data[start, end) (a view if `reuseBytes`), as ssz does: a Buffer's own slice() would not copy. */
function copyBytes(data: Uint8Array, start: number, end: number, reuseBytes: boolean | undefined): Uint8Array {
  return reuseBytes ? Uint8Array.prototype.subarray.call(data, start, end) : Uint8Array.prototype.slice.call(data, start, end);
}

/**
 * A registry entry: the validator as a value (reads are property accesses), whose root is computed from the value
 * without building its subtree. `left`/`right` (proofs, tree walks) still build the generic subtree.
 */
export class ValidatorNode extends BranchNodeStruct<ValidatorValue> {
  override get rootHashObject(): Node {
    if (this.h0 === null) hashValidatorNodes([this]);
    return this;
  }
}

/**
 * Validator as ContainerNodeStructType, with hand-written serialize, deserialize and hash for its fixed layout.
 * Output (bytes, values, roots) is identical to the generic ContainerNodeStructType of the same fields:
 * test/unit/sszFastPaths.test.ts compares them on random and edge values.
 */
export class ValidatorNodeStructType extends ContainerNodeStructType<typeof validatorFields> {
  /** The generic subtree of a value, shared by every node of this type (no bound function per node). */
  private readonly fullTree = (value: ValidatorValue): Node => {
    const uint8Array = new Uint8Array(VALIDATOR_SIZE);
    const dataView = new DataView(uint8Array.buffer);
    this.value_serializeToBytes({ uint8Array, dataView }, 0, value);
    return ContainerType.prototype.tree_deserializeFromBytes.call(this, { uint8Array, dataView }, 0, VALIDATOR_SIZE);
  };

  constructor() {
    super(validatorFields, { typeName: "Validator", jsonCase: "snake" });
    if (this.fixedSize !== VALIDATOR_SIZE) throw new Error(`Validator: fixed size ${this.fixedSize}, expected ${VALIDATOR_SIZE}`);
  }

  override value_serializeToBytes({ uint8Array, dataView }: ByteViews, offset: number, v: ValidatorValue): number {
    uint8Array.set(v.pubkey, offset);
    uint8Array.set(v.withdrawalCredentials, offset + 48);
    writeUint64(dataView, offset + 80, v.effectiveBalance);
    uint8Array[offset + 88] = v.slashed ? 1 : 0;
    writeUint64(dataView, offset + 89, v.activationEligibilityEpoch);
    writeUint64(dataView, offset + 97, v.activationEpoch);
    writeUint64(dataView, offset + 105, v.exitEpoch);
    writeUint64(dataView, offset + 113, v.withdrawableEpoch);
    return offset + VALIDATOR_SIZE;
  }

  override value_deserializeFromBytes({ uint8Array, dataView }: ByteViews, start: number, end: number, reuseBytes?: boolean): ValidatorValue {
    if (end - start !== VALIDATOR_SIZE) throw new Error(`Validator: invalid size ${end - start}, expected ${VALIDATOR_SIZE}`);
    const slashedByte = uint8Array[start + 88];
    if (slashedByte > 1) throw new Error(`Boolean: invalid value: ${slashedByte}`);
    return {
      pubkey: copyBytes(uint8Array, start, start + 48, reuseBytes),
      withdrawalCredentials: copyBytes(uint8Array, start + 48, start + 80, reuseBytes),
      effectiveBalance: readUint64(dataView, start + 80, false),
      slashed: slashedByte === 1,
      activationEligibilityEpoch: readUint64(dataView, start + 89, true),
      activationEpoch: readUint64(dataView, start + 97, true),
      exitEpoch: readUint64(dataView, start + 105, true),
      withdrawableEpoch: readUint64(dataView, start + 113, true),
    };
  }

  override tree_deserializeFromBytes(data: ByteViews, start: number, end: number): Node {
    return new ValidatorNode(this.fullTree, this.value_deserializeFromBytes(data, start, end));
  }

  override value_toTree(value: ValidatorValue): Node {
    return new ValidatorNode(this.fullTree, value);
  }
}

/**
 * The registry, List[Validator, limit], whose tree serialize and deserialize loop over the validator nodes in one
 * place (ssz's shared array loop calls each element type through one call site that every list type uses).
 */
export class ValidatorListType extends ListCompositeType<ValidatorNodeStructType> {
  override tree_serializeToBytes(output: ByteViews, offset: number, node: Node): number {
    const length = this.tree_getLength(node);
    return serializeValidatorNodes(this.elementType, getNodesAtDepth(this.tree_getChunksNode(node), this.chunkDepth, 0, length), length, output, offset);
  }

  override tree_deserializeFromBytes(data: ByteViews, start: number, end: number): Node {
    const size = end - start;
    if (size % VALIDATOR_SIZE !== 0) throw new Error(`size ${size} is not multiple of element fixedSize ${VALIDATOR_SIZE}`);
    const length = size / VALIDATOR_SIZE;
    if (length > this.limit) throw new Error(`Invalid list length ${length} over limit ${this.limit}`);
    const nodes = new Array<Node>(length);
    for (let i = 0; i < length; i++) {
      const at = start + i * VALIDATOR_SIZE;
      nodes[i] = this.elementType.tree_deserializeFromBytes(data, at, at + VALIDATOR_SIZE);
    }
    return new BranchNode(subtreeFillToContents(nodes, this.chunkDepth), LeafNode.fromUint32(length));
  }

  override getViewDU(node: Node, cache?: unknown): ListCompositeTreeViewDU<ValidatorNodeStructType> {
    return new ValidatorListTreeViewDU(this, node, cache as never);
  }
}

class ValidatorListTreeViewDU extends ListCompositeTreeViewDU<ValidatorNodeStructType> {
  override serializeToBytes(output: ByteViews, offset: number): number {
    this.commit();
    this.populateAllNodes();
    return serializeValidatorNodes(this.type.elementType, this.nodes, this._length, output, offset);
  }
}

/**
 * The registry's tree serialized `sliceSize` validators at a time, the generator stopping between slices (a caller
 * may let other work run there; the tree must not change until the generator is done). Same bytes as
 * tree_serializeToBytes; returns the offset after the list.
 */
export function* serializeValidatorListSteps(type: ValidatorListType, node: Node, output: ByteViews, offset: number, sliceSize: number): Generator<void, number, void> {
  const length = type.tree_getLength(node);
  const chunks = type.tree_getChunksNode(node);
  for (let from = 0; from < length; from += sliceSize) {
    if (from > 0) yield;
    // the slice's nodes only: one walk of the whole registry's tree was itself ~20 ms at 100,000 validators
    const nodes = getNodesAtDepth(chunks, type.chunkDepth, from, Math.min(sliceSize, length - from));
    for (let k = 0; k < nodes.length; k++) offset = type.elementType.value_serializeToBytes(output, offset, (nodes[k] as ValidatorNode).value);
  }
  return offset;
}

function serializeValidatorNodes(type: ValidatorNodeStructType, nodes: Node[], length: number, output: ByteViews, offset: number): number {
  for (let i = 0; i < length; i++) offset = type.value_serializeToBytes(output, offset, (nodes[i] as ValidatorNode).value);
  return offset;
}

// Scratch space for hashing up to BATCH validators per hashInto call (one call per tree level).
const BATCH = 256;
const pubkeyBlocks = new Uint8Array(BATCH * 64); // 48-byte pubkey + 16 zero bytes each; the padding is never written
const pubkeyRoots = new Uint8Array(BATCH * 32);
const chunks = new Uint8Array(BATCH * 256); // 8 chunks each; bytes beyond each field's serialized size are never written
const chunksView = new DataView(chunks.buffer);
const level1 = new Uint8Array(BATCH * 128);
const level2 = new Uint8Array(BATCH * 64);
const roots = new Uint8Array(BATCH * 32);

/**
 * Computes the roots of validator nodes together, BATCH at a time: one SHA-256 call for the pubkeys and one per
 * level of the 8 chunks, instead of 8 calls and a 15-node tree per validator. Nodes already hashed are skipped.
 */
export function hashValidatorNodes(nodes: ValidatorNode[]): void {
  let i = 0;
  while (i < nodes.length) {
    const batch: ValidatorNode[] = [];
    for (; i < nodes.length && batch.length < BATCH; i++) if (nodes[i].h0 === null) batch.push(nodes[i]);
    const n = batch.length;
    if (n === 0) continue;
    for (let j = 0; j < n; j++) pubkeyBlocks.set(batch[j].value.pubkey, j * 64);
    hashInto(pubkeyBlocks.subarray(0, n * 64), pubkeyRoots.subarray(0, n * 32));
    for (let j = 0; j < n; j++) {
      const v = batch[j].value;
      const o = j * 256;
      chunks.set(pubkeyRoots.subarray(j * 32, j * 32 + 32), o);
      chunks.set(v.withdrawalCredentials, o + 32);
      // A leaf holds what ssz's tree path stores: for a non-clipping uint64, Infinity is written as 0, not 2^64-1.
      writeUint64(chunksView, o + 64, v.effectiveBalance === Infinity ? 0 : v.effectiveBalance);
      chunks[o + 96] = v.slashed ? 1 : 0;
      writeUint64(chunksView, o + 128, v.activationEligibilityEpoch);
      writeUint64(chunksView, o + 160, v.activationEpoch);
      writeUint64(chunksView, o + 192, v.exitEpoch);
      writeUint64(chunksView, o + 224, v.withdrawableEpoch);
    }
    hashInto(chunks.subarray(0, n * 256), level1.subarray(0, n * 128));
    hashInto(level1.subarray(0, n * 128), level2.subarray(0, n * 64));
    hashInto(level2.subarray(0, n * 64), roots.subarray(0, n * 32));
    for (let j = 0; j < n; j++) byteArrayIntoHashObject(roots, j * 32, batch[j]);
  }
}
