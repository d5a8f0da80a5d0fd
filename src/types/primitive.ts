import { getNodesAtDepth, LeafNode, packedNodeRootsToBytes, packedRootsBytesToNode, type Node } from "@chainsafe/persistent-merkle-tree";
import { BooleanType, ByteVectorType, UintNumberType, UintBigintType, VectorCompositeType, type ByteViews } from "@chainsafe/ssz";

/**
 * ByteVector[32] (roots, randao mixes) whose tree is one leaf: read and written as the leaf's 8 little-endian
 * words, without the generic path's node array per value. A state holds ~82,000 of them (the randao mixes and
 * the block and state roots). Same bytes and nodes as ByteVectorType(32).
 */
class Bytes32Type extends ByteVectorType {
  constructor() {
    super(32);
  }

  override tree_serializeToBytes({ dataView }: ByteViews, offset: number, node: Node): number {
    dataView.setInt32(offset, node.h0, true);
    dataView.setInt32(offset + 4, node.h1, true);
    dataView.setInt32(offset + 8, node.h2, true);
    dataView.setInt32(offset + 12, node.h3, true);
    dataView.setInt32(offset + 16, node.h4, true);
    dataView.setInt32(offset + 20, node.h5, true);
    dataView.setInt32(offset + 24, node.h6, true);
    dataView.setInt32(offset + 28, node.h7, true);
    return offset + 32;
  }

  override tree_deserializeFromBytes({ dataView }: ByteViews, start: number, end: number): Node {
    this.assertValidSize(end - start);
    return new LeafNode(
      dataView.getInt32(start, true),
      dataView.getInt32(start + 4, true),
      dataView.getInt32(start + 8, true),
      dataView.getInt32(start + 12, true),
      dataView.getInt32(start + 16, true),
      dataView.getInt32(start + 20, true),
      dataView.getInt32(start + 24, true),
      dataView.getInt32(start + 28, true),
    );
  }
}

// uint64 is a JS number (UintNumberType: fast) wherever the v0.12.3 spec refuses every value >= 2^53, and a bigint
// (UintBn64: same SSZ schema, so the same bytes and roots) where it accepts any value.
//
// A number decodes a value >= 2^53 rounded, but still >= 2^53 (2^64-1 reads as Infinity in clipInfinity fields,
// which hold FAR_FUTURE_EPOCH). So wherever the spec compares the value with a number below 2^53 and rejects it
// otherwise, the rounded value is rejected by the same comparison, and a rejected message's bytes and root never
// matter again. That covers: the block's slot (== state.slot) and proposer_index (== the proposer); attestation data
// in an Attestation (target epoch previous or current, slot in the inclusion window, index < committee count,
// source == a justified checkpoint); VoluntaryExit (epoch <= current epoch, validator_index < validator count); every
// validator index (attesting indices, a slashing header's proposer_index) since it must index state.validators; and
// what the state itself counts (slots, epochs, indices). Balances enter only through deposits: process_deposit
// refuses an amount, or a balance it would make, at or above 2^53 Gwei (about 9 million ETH in one validator) with
// an UnsupportedValueError: spec-valid, but no chain has one. The networking containers (Status,
// BeaconBlocksByRangeRequest, ...) decide no state transition.
//
// Exact (bigint) fields, where a spec-valid block may carry any value:
//  - Eth1Data.deposit_count: process_eth1_data appends any proposer's vote to state.eth1_data_votes unchecked;
//  - ProposerSlashing headers' slot, AttesterSlashing attestation data's slot, index, source and target epoch: a
//    validator can sign two conflicting messages at any slot or epoch, and the slashing checks only that they
//    conflict and are signed (phase0.ts, the Slashing* containers).
export const Boolean = new BooleanType();
export const Uint8 = new UintNumberType(1);
export const Uint16 = new UintNumberType(2);
export const Uint32 = new UintNumberType(4);
export const UintNum64 = new UintNumberType(8);
export const UintNumInf64 = new UintNumberType(8, { clipInfinity: true });
export const UintBn64 = new UintBigintType(8);
export const UintBn128 = new UintBigintType(16);
export const UintBn256 = new UintBigintType(32);

export const Slot = UintNumInf64;
export const Epoch = UintNumInf64;
export const CommitteeIndex = UintNum64;
export const ValidatorIndex = UintNum64;
export const Gwei = UintNum64;

export const Bytes1 = new ByteVectorType(1);
export const Bytes4 = new ByteVectorType(4);
export const Bytes8 = new ByteVectorType(8);
export const Bytes20 = new ByteVectorType(20);
export const Bytes32 = new Bytes32Type();

/**
 * Vector[Bytes32, N] (block and state roots, randao mixes, deposit proofs). Each element is one leaf at the chunk
 * depth, so the vector's tree is that of N*32 packed bytes: read and written in one pass instead of one generic
 * element call per root.
 */
export class RootsVectorType extends VectorCompositeType<typeof Bytes32> {
  constructor(length: number) {
    super(Bytes32, length);
  }

  override tree_serializeToBytes({ dataView }: ByteViews, offset: number, node: Node): number {
    const size = this.length * 32;
    packedNodeRootsToBytes(dataView, offset, size, getNodesAtDepth(node, this.chunkDepth, 0, this.length));
    return offset + size;
  }

  override tree_deserializeFromBytes({ dataView }: ByteViews, start: number, end: number): Node {
    if (end - start !== this.length * 32) throw new Error(`${this.typeName}: invalid size ${end - start}, expected ${this.length * 32}`);
    return packedRootsBytesToNode(this.chunkDepth, dataView, start, end);
  }
}
export const Bytes48 = new ByteVectorType(48);
export const Bytes96 = new ByteVectorType(96);

export const Root = Bytes32;
export const Version = Bytes4;
export const DomainType = Bytes4;
export const ForkDigest = Bytes4;
export const Domain = Bytes32;
export const BLSPubkey = Bytes48;
export const BLSSignature = Bytes96;
