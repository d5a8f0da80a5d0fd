// Phase 0 SSZ containers (spec v0.12.3 "Containers"), built for one config's list and vector limits.
import "../crypto/hasher.js";
import {
  BitListType,
  BitVectorType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  ListUintNum64Type,
  VectorBasicType,
  type ValueOf,
} from "@chainsafe/ssz";
import { ATTESTATION_SUBNET_COUNT, DEPOSIT_CONTRACT_TREE_DEPTH, JUSTIFICATION_BITS_LENGTH, MAX_REQUEST_BLOCKS, type ChainConfig } from "../params/index.js";
import { batchHashedContainerViewDU } from "./hashTree.js";
import * as p from "./primitive.js";
import { ValidatorListType, ValidatorNodeStructType } from "./validator.js";

export function createPhase0Types(c: ChainConfig) {
  const Fork = new ContainerType(
    { previousVersion: p.Version, currentVersion: p.Version, epoch: p.Epoch },
    { typeName: "Fork", jsonCase: "snake" },
  );
  const ForkData = new ContainerType(
    { currentVersion: p.Version, genesisValidatorsRoot: p.Root },
    { typeName: "ForkData", jsonCase: "snake" },
  );
  const Checkpoint = new ContainerType({ epoch: p.Epoch, root: p.Root }, { typeName: "Checkpoint", jsonCase: "snake" });
  // The registry stores each validator as one struct node: reads are a property access, not a subtree walk. Its
  // serialize, deserialize and hash are hand-written for the fixed layout (validator.ts).
  const Validator = new ValidatorNodeStructType();
  const AttestationData = new ContainerType(
    { slot: p.Slot, index: p.CommitteeIndex, beaconBlockRoot: p.Root, source: Checkpoint, target: Checkpoint },
    { typeName: "AttestationData", jsonCase: "snake" },
  );
  const CommitteeIndices = new ListBasicType(p.ValidatorIndex, c.MAX_VALIDATORS_PER_COMMITTEE);
  const IndexedAttestation = new ContainerType(
    { attestingIndices: CommitteeIndices, data: AttestationData, signature: p.BLSSignature },
    { typeName: "IndexedAttestation", jsonCase: "snake" },
  );
  const CommitteeBits = new BitListType(c.MAX_VALIDATORS_PER_COMMITTEE);
  const PendingAttestation = new ContainerType(
    { aggregationBits: CommitteeBits, data: AttestationData, inclusionDelay: p.Slot, proposerIndex: p.ValidatorIndex },
    { typeName: "PendingAttestation", jsonCase: "snake" },
  );
  const Eth1Data = new ContainerType(
    { depositRoot: p.Root, depositCount: p.UintBn64, blockHash: p.Bytes32 },
    { typeName: "Eth1Data", jsonCase: "snake" },
  );
  const HistoricalBlockRoots = new p.RootsVectorType(c.SLOTS_PER_HISTORICAL_ROOT);
  const HistoricalStateRoots = new p.RootsVectorType(c.SLOTS_PER_HISTORICAL_ROOT);
  const HistoricalBatch = new ContainerType(
    { blockRoots: HistoricalBlockRoots, stateRoots: HistoricalStateRoots },
    { typeName: "HistoricalBatch", jsonCase: "snake" },
  );
  const DepositMessage = new ContainerType(
    { pubkey: p.BLSPubkey, withdrawalCredentials: p.Bytes32, amount: p.Gwei },
    { typeName: "DepositMessage", jsonCase: "snake" },
  );
  const DepositData = new ContainerType(
    { pubkey: p.BLSPubkey, withdrawalCredentials: p.Bytes32, amount: p.Gwei, signature: p.BLSSignature },
    { typeName: "DepositData", jsonCase: "snake" },
  );
  const BeaconBlockHeader = new ContainerType(
    { slot: p.Slot, proposerIndex: p.ValidatorIndex, parentRoot: p.Root, stateRoot: p.Root, bodyRoot: p.Root },
    { typeName: "BeaconBlockHeader", jsonCase: "snake" },
  );
  const SigningData = new ContainerType(
    { objectRoot: p.Root, domain: p.Domain },
    { typeName: "SigningData", jsonCase: "snake" },
  );
  const SignedBeaconBlockHeader = new ContainerType(
    { message: BeaconBlockHeader, signature: p.BLSSignature },
    { typeName: "SignedBeaconBlockHeader", jsonCase: "snake" },
  );
  // The same containers with the fields that a slashing may carry at any value held exactly (see primitive.ts):
  // same spec names and SSZ schema, so the same bytes and roots.
  const SlashingBeaconBlockHeader = new ContainerType(
    { slot: p.UintBn64, proposerIndex: p.ValidatorIndex, parentRoot: p.Root, stateRoot: p.Root, bodyRoot: p.Root },
    { typeName: "BeaconBlockHeader", jsonCase: "snake" },
  );
  const SlashingSignedBeaconBlockHeader = new ContainerType(
    { message: SlashingBeaconBlockHeader, signature: p.BLSSignature },
    { typeName: "SignedBeaconBlockHeader", jsonCase: "snake" },
  );
  const SlashingCheckpoint = new ContainerType({ epoch: p.UintBn64, root: p.Root }, { typeName: "Checkpoint", jsonCase: "snake" });
  const SlashingAttestationData = new ContainerType(
    { slot: p.UintBn64, index: p.UintBn64, beaconBlockRoot: p.Root, source: SlashingCheckpoint, target: SlashingCheckpoint },
    { typeName: "AttestationData", jsonCase: "snake" },
  );
  const SlashingIndexedAttestation = new ContainerType(
    { attestingIndices: CommitteeIndices, data: SlashingAttestationData, signature: p.BLSSignature },
    { typeName: "IndexedAttestation", jsonCase: "snake" },
  );
  const ProposerSlashing = new ContainerType(
    { signedHeader1: SlashingSignedBeaconBlockHeader, signedHeader2: SlashingSignedBeaconBlockHeader },
    { typeName: "ProposerSlashing", casingMap: { signedHeader1: "signed_header_1", signedHeader2: "signed_header_2" } },
  );
  const AttesterSlashing = new ContainerType(
    { attestation1: SlashingIndexedAttestation, attestation2: SlashingIndexedAttestation },
    { typeName: "AttesterSlashing", casingMap: { attestation1: "attestation_1", attestation2: "attestation_2" } },
  );
  const Attestation = new ContainerType(
    { aggregationBits: CommitteeBits, data: AttestationData, signature: p.BLSSignature },
    { typeName: "Attestation", jsonCase: "snake" },
  );
  const Deposit = new ContainerType(
    { proof: new p.RootsVectorType(DEPOSIT_CONTRACT_TREE_DEPTH + 1), data: DepositData },
    { typeName: "Deposit", jsonCase: "snake" },
  );
  const VoluntaryExit = new ContainerType(
    { epoch: p.Epoch, validatorIndex: p.ValidatorIndex },
    { typeName: "VoluntaryExit", jsonCase: "snake" },
  );
  const SignedVoluntaryExit = new ContainerType(
    { message: VoluntaryExit, signature: p.BLSSignature },
    { typeName: "SignedVoluntaryExit", jsonCase: "snake" },
  );
  const BeaconBlockBody = new ContainerType(
    {
      randaoReveal: p.BLSSignature,
      eth1Data: Eth1Data,
      graffiti: p.Bytes32,
      proposerSlashings: new ListCompositeType(ProposerSlashing, c.MAX_PROPOSER_SLASHINGS),
      attesterSlashings: new ListCompositeType(AttesterSlashing, c.MAX_ATTESTER_SLASHINGS),
      attestations: new ListCompositeType(Attestation, c.MAX_ATTESTATIONS),
      deposits: new ListCompositeType(Deposit, c.MAX_DEPOSITS),
      voluntaryExits: new ListCompositeType(SignedVoluntaryExit, c.MAX_VOLUNTARY_EXITS),
    },
    { typeName: "BeaconBlockBody", jsonCase: "snake" },
  );
  const BeaconBlock = new ContainerType(
    { slot: p.Slot, proposerIndex: p.ValidatorIndex, parentRoot: p.Root, stateRoot: p.Root, body: BeaconBlockBody },
    { typeName: "BeaconBlock", jsonCase: "snake" },
  );
  const SignedBeaconBlock = new ContainerType(
    { message: BeaconBlock, signature: p.BLSSignature },
    { typeName: "SignedBeaconBlock", jsonCase: "snake" },
  );
  const Eth1Block = new ContainerType(
    { timestamp: p.UintNum64, depositRoot: p.Root, depositCount: p.UintNum64 },
    { typeName: "Eth1Block", jsonCase: "snake" },
  );
  const AggregateAndProof = new ContainerType(
    { aggregatorIndex: p.ValidatorIndex, aggregate: Attestation, selectionProof: p.BLSSignature },
    { typeName: "AggregateAndProof", jsonCase: "snake" },
  );
  const SignedAggregateAndProof = new ContainerType(
    { message: AggregateAndProof, signature: p.BLSSignature },
    { typeName: "SignedAggregateAndProof", jsonCase: "snake" },
  );
  const EpochAttestations = new ListCompositeType(PendingAttestation, c.MAX_ATTESTATIONS * c.SLOTS_PER_EPOCH);
  const BeaconState = new ContainerType(
    {
      genesisTime: p.UintNum64,
      genesisValidatorsRoot: p.Root,
      slot: p.Slot,
      fork: Fork,
      latestBlockHeader: BeaconBlockHeader,
      blockRoots: HistoricalBlockRoots,
      stateRoots: HistoricalStateRoots,
      historicalRoots: new ListCompositeType(p.Root, c.HISTORICAL_ROOTS_LIMIT),
      eth1Data: Eth1Data,
      eth1DataVotes: new ListCompositeType(Eth1Data, c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH),
      eth1DepositIndex: p.UintNum64,
      validators: new ValidatorListType(Validator, c.VALIDATOR_REGISTRY_LIMIT),
      // Balances are packed 4 per chunk; this list type reads and writes them in bulk.
      balances: new ListUintNum64Type(c.VALIDATOR_REGISTRY_LIMIT),
      randaoMixes: new p.RootsVectorType(c.EPOCHS_PER_HISTORICAL_VECTOR),
      slashings: new VectorBasicType(p.Gwei, c.EPOCHS_PER_SLASHINGS_VECTOR),
      previousEpochAttestations: EpochAttestations,
      currentEpochAttestations: EpochAttestations,
      justificationBits: new BitVectorType(JUSTIFICATION_BITS_LENGTH),
      previousJustifiedCheckpoint: Checkpoint,
      currentJustifiedCheckpoint: Checkpoint,
      finalizedCheckpoint: Checkpoint,
    },
    // hashTreeRoot() hashes the new nodes level by level in batches (hashTree.ts).
    { typeName: "BeaconState", jsonCase: "snake", getContainerTreeViewDUClass: batchHashedContainerViewDU },
  );

  // p2p-interface.md: the networking containers (MetaData, Status, ... as the spec names them)
  const Status = new ContainerType(
    { forkDigest: p.ForkDigest, finalizedRoot: p.Root, finalizedEpoch: p.Epoch, headRoot: p.Root, headSlot: p.Slot },
    { typeName: "Status", jsonCase: "snake" },
  );
  const Goodbye = p.UintBn64;
  const Ping = p.UintBn64;
  const Metadata = new ContainerType(
    { seqNumber: p.UintBn64, attnets: new BitVectorType(ATTESTATION_SUBNET_COUNT) },
    { typeName: "MetaData", jsonCase: "snake" },
  );
  const BeaconBlocksByRangeRequest = new ContainerType(
    { startSlot: p.Slot, count: p.UintNum64, step: p.UintNum64 },
    { typeName: "BeaconBlocksByRangeRequest", jsonCase: "snake" },
  );
  const BeaconBlocksByRootRequest = new ListCompositeType(p.Root, MAX_REQUEST_BLOCKS);
  const ENRForkID = new ContainerType(
    { forkDigest: p.ForkDigest, nextForkVersion: p.Version, nextForkEpoch: p.Epoch },
    { typeName: "ENRForkID", jsonCase: "snake" },
  );
  const AttestationSubnets = new BitVectorType(ATTESTATION_SUBNET_COUNT);

  return {
    Status,
    Goodbye,
    Ping,
    Metadata,
    BeaconBlocksByRangeRequest,
    BeaconBlocksByRootRequest,
    ENRForkID,
    AttestationSubnets,
    Fork,
    ForkData,
    Checkpoint,
    Validator,
    AttestationData,
    IndexedAttestation,
    PendingAttestation,
    Eth1Data,
    HistoricalBatch,
    DepositMessage,
    DepositData,
    BeaconBlockHeader,
    SignedBeaconBlockHeader,
    SlashingBeaconBlockHeader,
    SlashingSignedBeaconBlockHeader,
    SlashingAttestationData,
    SlashingIndexedAttestation,
    SigningData,
    ProposerSlashing,
    AttesterSlashing,
    Attestation,
    Deposit,
    VoluntaryExit,
    SignedVoluntaryExit,
    BeaconBlockBody,
    BeaconBlock,
    SignedBeaconBlock,
    Eth1Block,
    AggregateAndProof,
    SignedAggregateAndProof,
    BeaconState,
  };
}

export type Phase0Types = ReturnType<typeof createPhase0Types>;

// Value (plain object) and view types used across the code base.
type T = Phase0Types;
export type BeaconState = ValueOf<T["BeaconState"]>;
export type BeaconBlock = ValueOf<T["BeaconBlock"]>;
export type BeaconBlockBody = ValueOf<T["BeaconBlockBody"]>;
export type SignedBeaconBlock = ValueOf<T["SignedBeaconBlock"]>;
export type BeaconBlockHeader = ValueOf<T["BeaconBlockHeader"]>;
export type SignedBeaconBlockHeader = ValueOf<T["SignedBeaconBlockHeader"]>;
export type Attestation = ValueOf<T["Attestation"]>;
export type AttestationData = ValueOf<T["AttestationData"]>;
export type IndexedAttestation = ValueOf<T["IndexedAttestation"]>;
export type PendingAttestation = ValueOf<T["PendingAttestation"]>;
export type Checkpoint = ValueOf<T["Checkpoint"]>;
export type Validator = ValueOf<T["Validator"]>;
export type Eth1Data = ValueOf<T["Eth1Data"]>;
export type Deposit = ValueOf<T["Deposit"]>;
export type DepositData = ValueOf<T["DepositData"]>;
export type DepositMessage = ValueOf<T["DepositMessage"]>;
export type ProposerSlashing = ValueOf<T["ProposerSlashing"]>;
export type SlashingBeaconBlockHeader = ValueOf<T["SlashingBeaconBlockHeader"]>;
export type SlashingAttestationData = ValueOf<T["SlashingAttestationData"]>;
export type SlashingIndexedAttestation = ValueOf<T["SlashingIndexedAttestation"]>;
export type AttesterSlashing = ValueOf<T["AttesterSlashing"]>;
export type VoluntaryExit = ValueOf<T["VoluntaryExit"]>;
export type SignedVoluntaryExit = ValueOf<T["SignedVoluntaryExit"]>;
export type Fork = ValueOf<T["Fork"]>;
export type AggregateAndProof = ValueOf<T["AggregateAndProof"]>;
export type SignedAggregateAndProof = ValueOf<T["SignedAggregateAndProof"]>;
export type Status = ValueOf<T["Status"]>;
export type Metadata = ValueOf<T["Metadata"]>;
export type BeaconBlocksByRangeRequest = ValueOf<T["BeaconBlocksByRangeRequest"]>;
export type ENRForkID = ValueOf<T["ENRForkID"]>;
export type BeaconStateView = ReturnType<T["BeaconState"]["defaultViewDU"]>;
export type ValidatorView = ReturnType<T["Validator"]["defaultViewDU"]>;
