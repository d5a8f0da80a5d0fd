// The benchmark inputs: mainnet-preset phase 0 states at steady state with full participation, built directly as
// values (no deposits, no signature checks), and one block with 128 really signed attestations.
//
// - `epochPre`: the post-block state at the last slot of epoch E (slot 32E+31). Its previous-epoch list holds one
//   attestation per committee of every slot of epoch E-1, its current-epoch list one per committee of slots
//   32E..32E+30, each with inclusion delay 1 and the proposer of the including slot, as a chain where every
//   validator attests on time has them. Checkpoints as after a run of finalized epochs: justified E-1 (current)
//   and E-2 (previous), finalized E-2, justification bits 1111.
// - `blockPre`: the same chain at slot T-1 (T = 32E+16), and `block`: the block of slot T carrying 128
//   attestations, every committee of slots T-1, T-2, ... until 128 (the pre-state holds the delay-1 attestations of
//   the older slots only). All signatures in the block are real: each attestation's aggregate signature is
//   the signature of the committee's summed interop secret keys (equal to aggregating the members' signatures).
//
// Every validator: 32 ETH effective balance, active since genesis, never exiting; balances 32..33 ETH.
import { digest } from "@chainsafe/as-sha256";
import { BitArray } from "@chainsafe/ssz";
import { createBeaconConfig, type BeaconConfig } from "../../src/config/index.js";
import { mainnetV1Config } from "../../src/config/presetsV1.js";
import { secretKeyFromBytes, sign } from "../../src/crypto/bls.js";
import { interopSecretKeyBytes } from "../../src/crypto/interop.js";
import { FAR_FUTURE_EPOCH } from "../../src/params/index.js";
import { computeProposerIndex } from "../../src/state-transition/cache/epochContext.js";
import type { EpochShuffling } from "../../src/state-transition/cache/epochShuffling.js";
import { createCachedBeaconState, processBlock, processSlots, type CachedBeaconState } from "../../src/state-transition/index.js";
import { computeSigningRoot, getDomain } from "../../src/state-transition/util/domain.js";
import { uint64ToBytes } from "../../src/state-transition/util/math.js";
import { getSeed } from "../../src/state-transition/util/seed.js";
import {
  primitive,
  type Attestation,
  type AttestationData,
  type BeaconBlock,
  type BeaconState,
  type BeaconStateView,
  type Checkpoint,
  type Eth1Data,
  type PendingAttestation,
} from "../../src/types/index.js";
import { InteropAggregateSigner } from "./interopAggregate.js";

/** Bump when the generated states change, so cached fixtures are rebuilt. */
export const FIXTURE_VERSION = 1;
/** The epoch of the benchmark states: not the end of an eth1 voting period (64) nor of a historical batch (256). */
export const BENCH_EPOCH = 1000;
export const BLOCK_ATTESTATIONS = 128;

export function benchConfig(): BeaconConfig {
  // The v1.0 mainnet constants: the ones Lodestar's phase 0 runs with, so both reach the same roots.
  return createBeaconConfig(mainnetV1Config);
}

export interface FixtureMeta {
  version: number;
  validators: number;
  epoch: number;
  epochPreSlot: number;
  blockSlot: number;
  blockAttestations: number;
  /** slots whose committees the block's attestations cover */
  blockAttestationSlots: number[];
  committeesPerSlot: number;
}

export interface Fixtures {
  meta: FixtureMeta;
  epochPre: Uint8Array;
  blockPre: Uint8Array;
  block: Uint8Array;
}

/** Deterministic pseudo-random 32-byte values: sha256(tag ++ i). */
function rand32(tag: number, i: number): Uint8Array {
  const input = new Uint8Array(16);
  input.set(uint64ToBytes(tag), 0);
  input.set(uint64ToBytes(i), 8);
  return digest(input);
}

const TAG = { blockRoot: 1, stateRoot: 2, randao: 3, historical: 4, balance: 5, misc: 6 } as const;

/** The block root of `slot` in the synthetic history. */
function historyBlockRoot(slot: number): Uint8Array {
  return rand32(TAG.blockRoot, slot);
}

function checkpoint(c: BeaconConfig, epoch: number): Checkpoint {
  return { epoch, root: historyBlockRoot(epoch * c.SLOTS_PER_EPOCH) };
}

function eth1Vote(validators: number): Eth1Data {
  return { depositRoot: rand32(TAG.misc, 1), depositCount: BigInt(validators), blockHash: rand32(TAG.misc, 2) };
}

/** The registry and history of the chain at `slot`, without pending attestations. */
function baseState(c: BeaconConfig, pubkeys: Uint8Array[], slot: number): BeaconState {
  const t = c.types;
  const n = pubkeys.length;
  const epoch = Math.floor(slot / c.SLOTS_PER_EPOCH);
  const value = t.BeaconState.defaultValue();
  value.genesisTime = c.MIN_GENESIS_TIME + c.GENESIS_DELAY;
  value.genesisValidatorsRoot = rand32(TAG.misc, 0);
  value.slot = slot;
  value.fork = { previousVersion: c.GENESIS_FORK_VERSION, currentVersion: c.GENESIS_FORK_VERSION, epoch: 0 };
  // The block of `slot` has been applied: its header waits for its state root (filled by the next process_slot).
  value.latestBlockHeader = {
    slot,
    proposerIndex: 0, // set once the proposers are known
    parentRoot: historyBlockRoot(slot - 1),
    stateRoot: new Uint8Array(32),
    bodyRoot: rand32(TAG.misc, 3),
  };
  const H = c.SLOTS_PER_HISTORICAL_ROOT;
  value.blockRoots = Array.from({ length: H }, (_, i) => {
    // the most recent slot s < `slot` with s % H == i
    const s = slot - 1 - ((slot - 1 - i + H) % H);
    return historyBlockRoot(s);
  });
  value.stateRoots = Array.from({ length: H }, (_, i) => rand32(TAG.stateRoot, i));
  value.historicalRoots = Array.from({ length: Math.floor(slot / H) }, (_, i) => rand32(TAG.historical, i));
  const period = c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH;
  const votes = (slot % period) + 1; // one per block of the period so far, this slot's included
  const vote = eth1Vote(n);
  value.eth1DataVotes = Array.from({ length: votes }, () => vote);
  value.eth1Data = votes * 2 > period ? vote : { depositRoot: rand32(TAG.misc, 4), depositCount: BigInt(n), blockHash: rand32(TAG.misc, 5) };
  value.eth1DepositIndex = n;
  const withdrawalCredentials = (pk: Uint8Array) => {
    const w = digest(pk);
    w[0] = c.BLS_WITHDRAWAL_PREFIX[0];
    return w;
  };
  value.validators = pubkeys.map((pubkey) => ({
    pubkey,
    withdrawalCredentials: withdrawalCredentials(pubkey),
    effectiveBalance: c.MAX_EFFECTIVE_BALANCE,
    slashed: false,
    activationEligibilityEpoch: 0,
    activationEpoch: 0,
    exitEpoch: FAR_FUTURE_EPOCH,
    withdrawableEpoch: FAR_FUTURE_EPOCH,
  }));
  value.balances = pubkeys.map((_, i) => {
    const r = rand32(TAG.balance, i);
    // 32 ETH plus up to ~1 ETH of rewards: inside the hysteresis band, so effective balances stay at 32 ETH
    return c.MAX_EFFECTIVE_BALANCE + ((r[0] | (r[1] << 8) | (r[2] << 16)) % 1_000_000_000);
  });
  value.randaoMixes = Array.from({ length: c.EPOCHS_PER_HISTORICAL_VECTOR }, (_, i) => rand32(TAG.randao, i));
  value.justificationBits = BitArray.fromBoolArray([true, true, true, true]);
  value.previousJustifiedCheckpoint = checkpoint(c, epoch - 2);
  value.currentJustifiedCheckpoint = checkpoint(c, epoch - 1);
  value.finalizedCheckpoint = checkpoint(c, epoch - 2);
  return value;
}

/** get_beacon_proposer_index for every slot of `epoch`, from the state's randao mixes (spec's formula). */
function proposersOfEpoch(c: BeaconConfig, state: BeaconStateView, shuffling: EpochShuffling): number[] {
  const seed = getSeed(c, state, shuffling.epoch, c.DOMAIN_BEACON_PROPOSER);
  const input = new Uint8Array(40);
  input.set(seed, 0);
  const out: number[] = [];
  for (let i = 0; i < c.SLOTS_PER_EPOCH; i++) {
    input.set(uint64ToBytes(shuffling.epoch * c.SLOTS_PER_EPOCH + i), 32);
    out.push(computeProposerIndex(c, state, shuffling.activeIndices, digest(input)));
  }
  return out;
}

interface Chain {
  cached: CachedBeaconState;
  /** proposer of a slot of the previous or current epoch */
  proposer(slot: number): number;
  committees(slot: number): Uint32Array[];
  attestationData(slot: number, index: number): AttestationData;
}

/** The state at `slot` with the delay-1 attestations of every slot `s < includedBelow` of the previous and current epochs. */
function buildChain(c: BeaconConfig, pubkeys: Uint8Array[], slot: number, includedBelow: number): Chain {
  const t = c.types;
  const view = t.BeaconState.toViewDU(baseState(c, pubkeys, slot));
  view.commit();
  const cached = createCachedBeaconState(c, view);
  const { epochCtx } = cached;
  const epoch = epochCtx.epoch;
  const S = c.SLOTS_PER_EPOCH;
  const prevProposers = proposersOfEpoch(c, view, epochCtx.previousShuffling);
  const currProposers = epochCtx.proposers;
  const proposer = (s: number): number => {
    const e = Math.floor(s / S);
    if (e === epoch) return currProposers[s % S];
    if (e === epoch - 1) return prevProposers[s % S];
    throw new Error(`no proposer for slot ${s}`);
  };
  const committees = (s: number) => epochCtx.getShufflingAtEpoch(Math.floor(s / S)).committees[s % S];
  const attestationData = (s: number, index: number): AttestationData => {
    const e = Math.floor(s / S);
    return {
      slot: s,
      index,
      beaconBlockRoot: historyBlockRoot(s),
      source: e === epoch ? checkpoint(c, epoch - 1) : checkpoint(c, epoch - 2),
      target: checkpoint(c, e),
    };
  };

  view.latestBlockHeader.proposerIndex = proposer(slot);
  const pending = (s: number, index: number, size: number): PendingAttestation => ({
    aggregationBits: allOnes(size),
    data: attestationData(s, index),
    inclusionDelay: 1,
    proposerIndex: proposer(s + 1),
  });
  for (let s = (epoch - 1) * S; s < Math.min(includedBelow, slot); s++) {
    const list = Math.floor(s / S) === epoch ? view.currentEpochAttestations : view.previousEpochAttestations;
    committees(s).forEach((committee, index) => list.push(t.PendingAttestation.toViewDU(pending(s, index, committee.length))));
  }
  view.commit();
  return { cached, proposer, committees, attestationData };
}

function allOnes(n: number): BitArray {
  const bits = BitArray.fromBitLen(n);
  for (let i = 0; i < n; i++) bits.set(i, true);
  return bits;
}

export function buildFixtures(pubkeys: Uint8Array[], log: (msg: string) => void = () => {}): Fixtures {
  const c = benchConfig();
  const t = c.types;
  const S = c.SLOTS_PER_EPOCH;
  const E = BENCH_EPOCH;
  const n = pubkeys.length;

  // The epoch-transition pre-state
  const epochPreSlot = E * S + S - 1;
  let t0 = performance.now();
  const epochChain = buildChain(c, pubkeys, epochPreSlot, epochPreSlot);
  const epochPre = epochChain.cached.state.serialize();
  log(`epoch pre-state (slot ${epochPreSlot}, ${epochPre.length} bytes) built in ${(performance.now() - t0).toFixed(0)} ms`);

  // The block and its pre-state
  t0 = performance.now();
  const blockSlot = E * S + S / 2;
  const committeesPerSlot = epochChain.cached.epochCtx.currentShuffling.committeesPerSlot;
  const slotsCovered = Math.ceil(BLOCK_ATTESTATIONS / committeesPerSlot);
  if (slotsCovered > S) throw new Error(`${n} validators: too few committees for ${BLOCK_ATTESTATIONS} attestations`);
  const oldest = blockSlot - slotsCovered;
  const chain = buildChain(c, pubkeys, blockSlot - 1, oldest);
  const blockPre = chain.cached.state.serialize();

  const post = chain.cached.clone();
  processSlots(post, blockSlot);
  const { state, epochCtx } = post;
  const attestations: Attestation[] = [];
  const aggregator = new InteropAggregateSigner();
  const blockAttestationSlots: number[] = [];
  for (let s = blockSlot - 1; s >= oldest && attestations.length < BLOCK_ATTESTATIONS; s--) {
    blockAttestationSlots.push(s);
    const committees = chain.committees(s);
    for (let index = 0; index < committees.length && attestations.length < BLOCK_ATTESTATIONS; index++) {
      const data = chain.attestationData(s, index);
      const domain = getDomain(c, state, c.DOMAIN_BEACON_ATTESTER, data.target.epoch);
      const signingRoot = computeSigningRoot(c, t.AttestationData, data, domain);
      attestations.push({
        aggregationBits: allOnes(committees[index].length),
        data,
        signature: aggregator.sign(committees[index], signingRoot),
      });
    }
  }
  const proposerIndex = epochCtx.getBeaconProposer(blockSlot);
  const proposerKey = secretKeyFromBytes(interopSecretKeyBytes(proposerIndex));
  const epoch = epochCtx.epoch;
  const randaoReveal = sign(
    proposerKey,
    computeSigningRoot(c, primitive.Epoch, epoch, getDomain(c, state, c.DOMAIN_RANDAO, epoch)),
  );
  const block: BeaconBlock = {
    slot: blockSlot,
    proposerIndex,
    parentRoot: state.latestBlockHeader.hashTreeRoot(),
    stateRoot: new Uint8Array(32),
    body: {
      ...t.BeaconBlockBody.defaultValue(),
      randaoReveal,
      eth1Data: eth1Vote(n),
      graffiti: rand32(TAG.misc, 7),
      attestations,
    },
  };
  processBlock(post, block, false);
  block.stateRoot = post.state.hashTreeRoot();
  const signature = sign(
    proposerKey,
    computeSigningRoot(c, t.BeaconBlock, block, getDomain(c, state, c.DOMAIN_BEACON_PROPOSER, epoch)),
  );
  const blockBytes = t.SignedBeaconBlock.serialize({ message: block, signature });
  log(`block (slot ${blockSlot}, ${attestations.length} attestations of slots ${oldest}..${blockSlot - 1}) built in ${(performance.now() - t0).toFixed(0)} ms`);

  return {
    meta: {
      version: FIXTURE_VERSION,
      validators: n,
      epoch: E,
      epochPreSlot,
      blockSlot,
      blockAttestations: attestations.length,
      blockAttestationSlots,
      committeesPerSlot,
    },
    epochPre,
    blockPre,
    block: blockBytes,
  };
}
