import { BooleanType, ByteVectorType, UintNumberType, UintBigintType } from "@chainsafe/ssz";

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
export const Bytes32 = new ByteVectorType(32);
export const Bytes48 = new ByteVectorType(48);
export const Bytes96 = new ByteVectorType(96);

export const Root = Bytes32;
export const Version = Bytes4;
export const DomainType = Bytes4;
export const ForkDigest = Bytes4;
export const Domain = Bytes32;
export const BLSPubkey = Bytes48;
export const BLSSignature = Bytes96;
