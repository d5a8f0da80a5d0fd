// One pass over the registry and the pending attestations that gathers everything the epoch sub-steps need,
// instead of the spec's repeated list comprehensions (get_matching_*_attestations, get_unslashed_attesting_indices,
// get_eligible_validator_indices, get_total_balance ...).
import { FAR_FUTURE_EPOCH, GENESIS_EPOCH } from "../../params/index.js";
import { getNodesAtDepth, type Node } from "@chainsafe/persistent-merkle-tree";
import type { BeaconConfig } from "../../config/index.js";
import type { BeaconStateView, Validator } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { computeEpochAtSlot } from "../util/epoch.js";
import { leafUint64, listElementNodes, nodeEqualsWords, readPackedUint64List, rootToWords } from "../util/tree.js";
import { getBlockRoot, getBlockRootAtSlot, GweiSum } from "./util.js";
import { runToEnd } from "../util/steps.js";

/** Bits of EpochProcess.flags. Attester flags are only set for unslashed validators (get_unslashed_attesting_indices). */
export const FLAG_PREV_ACTIVE = 1 << 0; // is_active_validator(v, previous_epoch)
export const FLAG_CURR_ACTIVE = 1 << 1; // is_active_validator(v, current_epoch)
export const FLAG_SLASHED = 1 << 2;
export const FLAG_ELIGIBLE = 1 << 3; // get_eligible_validator_indices: active in previous epoch, or slashed and not yet withdrawable
export const FLAG_PREV_SOURCE = 1 << 4; // in a previous-epoch (matching source) attestation
export const FLAG_PREV_TARGET = 1 << 5; // ... with the matching target root
export const FLAG_PREV_HEAD = 1 << 6; // ... with the matching target and head roots
export const FLAG_CURR_TARGET = 1 << 7; // in a current-epoch attestation with the matching target root

export interface EpochProcess {
  /** get_current_epoch / get_previous_epoch of the state being processed */
  currentEpoch: number;
  previousEpoch: number;
  validatorCount: number;
  /** The registry as read at the start (read-only values; shared with the tree, never mutate them). */
  validators: Validator[];
  /** FLAG_* bits per validator */
  flags: Uint8Array;
  /** effective_balance per validator. No sub-step before process_final_updates changes it. */
  effectiveBalances: Float64Array;
  /** balances per validator, kept current by processRewardsAndPenalties and processSlashings. */
  balances: number[];
  /** For FLAG_PREV_SOURCE validators: the smallest inclusion_delay among their previous-epoch attestations ... */
  inclusionDelays: Float64Array;
  /** ... and the proposer_index of that attestation (the first one with that delay, in list order). */
  inclusionProposers: Uint32Array;

  /** get_total_active_balance (current epoch), at least EFFECTIVE_BALANCE_INCREMENT. Exact, hence bigint. */
  totalActiveBalance: bigint;
  /** get_attesting_balance of the previous epoch's matching source / target / head attestations */
  prevEpochSourceBalance: bigint;
  prevEpochTargetBalance: bigint;
  prevEpochHeadBalance: bigint;
  /** get_attesting_balance of the current epoch's matching target attestations */
  currEpochTargetBalance: bigint;

  /** is_eligible_for_activation_queue, in index order */
  indicesEligibleForActivationQueue: number[];
  /** active in the current epoch with effective_balance <= EJECTION_BALANCE, in index order */
  indicesToEject: number[];
  /** activation_epoch == FAR_FUTURE_EPOCH (candidates for the activation queue), in index order */
  indicesPendingActivation: number[];
  /** slashed validators, in index order */
  indicesSlashed: number[];
  /**
   * get_active_validator_indices(currentEpoch + 2), for the shuffling the epoch context computes after the
   * transition; null when the config's MAX_SEED_LOOKAHEAD does not let it be read before the registry updates.
   */
  nextShufflingActiveIndices: Uint32Array | null;
}

export function beforeProcessEpoch(cached: CachedBeaconState): EpochProcess {
  return runToEnd(beforeProcessEpochSteps(cached));
}

/**
 * beforeProcessEpoch, stopping between its passes (the registry read, the per-validator status, each epoch's pending
 * attestations): at 100,000 validators the whole is ~25 to 30 ms, too long for one turn of a node's event loop.
 * Nothing may change the state until the generator is done.
 */
export function* beforeProcessEpochSteps(cached: CachedBeaconState): Generator<void, EpochProcess, void> {
  const { config: c, state } = cached;
  const currentEpoch = computeEpochAtSlot(c, state.slot);
  const previousEpoch = currentEpoch === GENESIS_EPOCH ? GENESIS_EPOCH : currentEpoch - 1;

  // Bulk reads see only committed data.
  state.validators.commit();
  const validators = state.validators.getAllReadonlyValues();
  state.balances.commit();
  const balances = readPackedUint64List(state.balances.node, state.balances.type.chunkDepth, state.balances.length);
  const n = validators.length;
  yield;

  // Each pass is its own small function with one loop: V8 optimizes those quickly and keeps them optimized,
  // where one large function with several hot loops is recompiled loop by loop (this runs once per epoch).
  const registry = readRegistry(c, validators, previousEpoch, currentEpoch);
  const { flags, effectiveBalances } = registry;
  const inclusionDelays = new Float64Array(n);
  const inclusionProposers = new Uint32Array(n);
  yield;

  // get_matching_source_attestations(previous_epoch): in the genesis epoch previous == current, so the spec reads
  // the current epoch's list. The lists are read node by node: only a few fields of each attestation are needed.
  const currentAttestations = pendingAttestationNodes(state.currentEpochAttestations);
  const previousAttestations =
    previousEpoch === currentEpoch ? currentAttestations : pendingAttestationNodes(state.previousEpochAttestations);
  const bitsChunkDepth = c.types.PendingAttestation.fields.aggregationBits.chunkDepth;

  // Roots are looked up only when an attestation needs them, as the spec's comprehensions do.
  let prevTargetRoot: Int32Array | null = null;
  const headRoots = new Map<number, Int32Array>();
  for (const att of previousAttestations) {
    const data = att.left.right;
    const slot = leafUint64(data.left.left.left);
    prevTargetRoot ??= rootToWords(getBlockRoot(c, state, previousEpoch));
    const isTarget = nodeEqualsWords(data.right.left.left.right, prevTargetRoot);
    let isHead = false;
    if (isTarget) {
      let headRoot = headRoots.get(slot);
      if (headRoot === undefined) {
        headRoot = rootToWords(getBlockRootAtSlot(c, state, slot));
        headRoots.set(slot, headRoot);
      }
      isHead = nodeEqualsWords(data.left.right.left, headRoot);
    }
    const committee = cached.epochCtx.getBeaconCommittee(slot, leafUint64(data.left.left.right));
    markPreviousEpochAttesters(
      committee,
      aggregationBitChunks(att.left.left, bitsChunkDepth, committee.length),
      FLAG_PREV_SOURCE | (isTarget ? FLAG_PREV_TARGET : 0) | (isHead ? FLAG_PREV_HEAD : 0),
      leafUint64(att.right.left),
      leafUint64(att.right.right),
      flags,
      inclusionDelays,
      inclusionProposers,
    );
  }

  yield;

  let currTargetRoot: Int32Array | null = null;
  for (const att of currentAttestations) {
    const data = att.left.right;
    currTargetRoot ??= rootToWords(getBlockRoot(c, state, currentEpoch));
    if (!nodeEqualsWords(data.right.left.left.right, currTargetRoot)) continue;
    const committee = cached.epochCtx.getBeaconCommittee(leafUint64(data.left.left.left), leafUint64(data.left.left.right));
    markCurrentEpochTargetAttesters(committee, aggregationBitChunks(att.left.left, bitsChunkDepth, committee.length), flags);
  }

  const increment = c.EFFECTIVE_BALANCE_INCREMENT;
  const sums = registry.wholeIncrements
    ? attestingIncrements(flags, registry.effectiveIncrements, increment)
    : attestingBalancesSlow(flags, effectiveBalances, increment);
  // get_total_balance: at least one increment, to avoid divisions by zero
  const gwei = (x: bigint) => (x < BigInt(increment) ? BigInt(increment) : x);

  return {
    currentEpoch,
    previousEpoch,
    validatorCount: n,
    validators,
    flags,
    effectiveBalances,
    balances,
    inclusionDelays,
    inclusionProposers,
    totalActiveBalance: registry.totalActive.total(),
    prevEpochSourceBalance: gwei(sums.prevSource),
    prevEpochTargetBalance: gwei(sums.prevTarget),
    prevEpochHeadBalance: gwei(sums.prevHead),
    currEpochTargetBalance: gwei(sums.currTarget),
    indicesEligibleForActivationQueue: registry.indicesEligibleForActivationQueue,
    indicesToEject: registry.indicesToEject,
    indicesPendingActivation: registry.indicesPendingActivation,
    indicesSlashed: registry.indicesSlashed,
    nextShufflingActiveIndices: registry.nextShufflingActiveIndices,
  };
}

interface RegistryStatus {
  flags: Uint8Array;
  effectiveBalances: Float64Array;
  /** effective_balance // EFFECTIVE_BALANCE_INCREMENT per validator ... */
  effectiveIncrements: Float64Array;
  /** ... and whether every effective balance is a whole number of increments (always, on a real chain) */
  wholeIncrements: boolean;
  totalActive: GweiSum;
  indicesEligibleForActivationQueue: number[];
  indicesToEject: number[];
  indicesPendingActivation: number[];
  indicesSlashed: number[];
  nextShufflingActiveIndices: Uint32Array | null;
}

/** The per-validator status flags and the registry-wide lists, in one pass over the validators. */
function readRegistry(c: BeaconConfig, validators: Validator[], previousEpoch: number, currentEpoch: number): RegistryStatus {
  const n = validators.length;
  const increment = c.EFFECTIVE_BALANCE_INCREMENT;
  const ejectionBalance = c.EJECTION_BALANCE;
  const maxEffectiveBalance = c.MAX_EFFECTIVE_BALANCE;
  const flags = new Uint8Array(n);
  const effectiveBalances = new Float64Array(n);
  const effectiveIncrements = new Float64Array(n);
  let wholeIncrements = true;
  const totalActive = new GweiSum(increment);
  const indicesEligibleForActivationQueue: number[] = [];
  const indicesToEject: number[] = [];
  const indicesPendingActivation: number[] = [];
  const indicesSlashed: number[] = [];
  // The validators active two epochs on (the shuffling the epoch context computes next). The registry updates of
  // this epoch only set activation and exit epochs beyond currentEpoch + 1 + MAX_SEED_LOOKAHEAD, so the values
  // read now decide it, as they will after the transition.
  const nextShufflingEpoch = currentEpoch + 2;
  const nextActive = c.MAX_SEED_LOOKAHEAD >= 1 ? new Uint32Array(n) : null;
  let nextActiveCount = 0;

  for (let i = 0; i < n; i++) {
    const v = validators[i];
    const eb = v.effectiveBalance;
    const activationEpoch = v.activationEpoch;
    const exitEpoch = v.exitEpoch;
    effectiveBalances[i] = eb;
    const q = Math.floor(eb / increment);
    effectiveIncrements[i] = q;
    if (q * increment !== eb) wholeIncrements = false;
    let f = 0;
    if (activationEpoch <= previousEpoch && previousEpoch < exitEpoch) f |= FLAG_PREV_ACTIVE | FLAG_ELIGIBLE;
    if (v.slashed) {
      f |= FLAG_SLASHED;
      if (previousEpoch + 1 < v.withdrawableEpoch) f |= FLAG_ELIGIBLE;
      indicesSlashed.push(i);
    }
    if (activationEpoch <= currentEpoch && currentEpoch < exitEpoch) {
      f |= FLAG_CURR_ACTIVE;
      totalActive.add(eb);
      if (eb <= ejectionBalance) indicesToEject.push(i);
    }
    if (nextActive !== null && activationEpoch <= nextShufflingEpoch && nextShufflingEpoch < exitEpoch) {
      nextActive[nextActiveCount++] = i;
    }
    flags[i] = f;
    if (v.activationEligibilityEpoch === FAR_FUTURE_EPOCH && eb === maxEffectiveBalance) {
      indicesEligibleForActivationQueue.push(i);
    }
    if (activationEpoch === FAR_FUTURE_EPOCH) indicesPendingActivation.push(i);
  }
  return {
    flags,
    effectiveBalances,
    effectiveIncrements,
    wholeIncrements,
    totalActive,
    indicesEligibleForActivationQueue,
    indicesToEject,
    indicesPendingActivation,
    indicesSlashed,
    nextShufflingActiveIndices: nextActive === null ? null : nextActive.slice(0, nextActiveCount),
  };
}

/** get_attesting_indices of one previous-epoch attestation, applied to the flags and inclusion data. */
function markPreviousEpochAttesters(
  committee: Uint32Array,
  bitChunks: Node[],
  attesterFlags: number,
  delay: number,
  proposer: number,
  flags: Uint8Array,
  inclusionDelays: Float64Array,
  inclusionProposers: Uint32Array,
): void {
  let chunk = bitChunks[0];
  let word = 0;
  for (let i = 0; i < committee.length; i++) {
    if ((i & 31) === 0) {
      if ((i & 0xff) === 0) chunk = bitChunks[i >>> 8];
      word = chunkWord(chunk, (i & 0xff) >>> 5);
    }
    if (((word >>> (i & 31)) & 1) === 0) continue;
    const index = committee[i];
    const f = flags[index];
    if (f & FLAG_SLASHED) continue;
    // min(..., key=inclusion_delay) keeps the first attestation with the smallest delay
    if ((f & FLAG_PREV_SOURCE) === 0 || delay < inclusionDelays[index]) {
      inclusionDelays[index] = delay;
      inclusionProposers[index] = proposer;
    }
    flags[index] = f | attesterFlags;
  }
}

/** get_attesting_indices of one current-epoch attestation with the matching target. */
function markCurrentEpochTargetAttesters(committee: Uint32Array, bitChunks: Node[], flags: Uint8Array): void {
  let chunk = bitChunks[0];
  let word = 0;
  for (let i = 0; i < committee.length; i++) {
    if ((i & 31) === 0) {
      if ((i & 0xff) === 0) chunk = bitChunks[i >>> 8];
      word = chunkWord(chunk, (i & 0xff) >>> 5);
    }
    if (((word >>> (i & 31)) & 1) === 0) continue;
    const index = committee[i];
    if ((flags[index] & FLAG_SLASHED) === 0) flags[index] |= FLAG_CURR_TARGET;
  }
}

/** Word k (bits 32k..32k+31) of a bitlist chunk. */
function chunkWord(chunk: Node, k: number): number {
  switch (k) {
    case 0: return chunk.h0;
    case 1: return chunk.h1;
    case 2: return chunk.h2;
    case 3: return chunk.h3;
    case 4: return chunk.h4;
    case 5: return chunk.h5;
    case 6: return chunk.h6;
    default: return chunk.h7;
  }
}

interface AttestingBalances {
  prevSource: bigint;
  prevTarget: bigint;
  prevHead: bigint;
  currTarget: bigint;
}

/** The attesting balances when every effective balance is a whole number of increments: exact sums of counts. */
function attestingIncrements(flags: Uint8Array, effectiveIncrements: Float64Array, increment: number): AttestingBalances {
  let prevSource = 0;
  let prevTarget = 0;
  let prevHead = 0;
  let currTarget = 0;
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if ((f & (FLAG_PREV_SOURCE | FLAG_CURR_TARGET)) === 0) continue;
    const q = effectiveIncrements[i];
    if (f & FLAG_PREV_SOURCE) prevSource += q;
    if (f & FLAG_PREV_TARGET) prevTarget += q;
    if (f & FLAG_PREV_HEAD) prevHead += q;
    if (f & FLAG_CURR_TARGET) currTarget += q;
  }
  const inc = BigInt(increment);
  return {
    prevSource: BigInt(prevSource) * inc,
    prevTarget: BigInt(prevTarget) * inc,
    prevHead: BigInt(prevHead) * inc,
    currTarget: BigInt(currTarget) * inc,
  };
}

/** The attesting balances in Gwei for any effective balances. */
function attestingBalancesSlow(flags: Uint8Array, effectiveBalances: Float64Array, increment: number): AttestingBalances {
  const prevSource = new GweiSum(increment);
  const prevTarget = new GweiSum(increment);
  const prevHead = new GweiSum(increment);
  const currTarget = new GweiSum(increment);
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if ((f & (FLAG_PREV_SOURCE | FLAG_CURR_TARGET)) === 0) continue;
    const eb = effectiveBalances[i];
    if (f & FLAG_PREV_SOURCE) prevSource.add(eb);
    if (f & FLAG_PREV_TARGET) prevTarget.add(eb);
    if (f & FLAG_PREV_HEAD) prevHead.add(eb);
    if (f & FLAG_CURR_TARGET) currTarget.add(eb);
  }
  return { prevSource: prevSource.value(), prevTarget: prevTarget.value(), prevHead: prevHead.value(), currTarget: currTarget.value() };
}

/**
 * The nodes of a pending-attestation list, one per PendingAttestation: a container of four fields, so
 * node.left.left is aggregation_bits, node.left.right data, node.right.left inclusion_delay, node.right.right
 * proposer_index; in data (five fields, depth 3) left.left.left is slot, left.left.right index, left.right.left
 * beacon_block_root, right.left.left target (whose .right is its root).
 */
function pendingAttestationNodes(list: BeaconStateView["previousEpochAttestations"]): Node[] {
  list.commit();
  return listElementNodes(list.node, list.type.chunkDepth, list.length);
}

/**
 * The chunk leaves of a bitlist node holding at least `bitsNeeded` bits (get_attesting_indices reads bits[i] for
 * every committee position; a shorter bitlist is an IndexError in the spec).
 */
function aggregationBitChunks(bitsNode: Node, chunkDepth: number, bitsNeeded: number): Node[] {
  const bitLen = leafUint64(bitsNode.right);
  if (bitLen < bitsNeeded) throw new Error(`aggregation bits length ${bitLen} < committee size ${bitsNeeded}`);
  return getNodesAtDepth(bitsNode.left, chunkDepth, 0, Math.max(1, Math.ceil(bitsNeeded / 256)));
}
