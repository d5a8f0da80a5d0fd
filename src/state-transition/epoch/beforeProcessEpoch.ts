// One pass over the registry and the pending attestations that gathers everything the epoch sub-steps need,
// instead of the spec's repeated list comprehensions (get_matching_*_attestations, get_unslashed_attesting_indices,
// get_eligible_validator_indices, get_total_balance ...).
import { FAR_FUTURE_EPOCH, GENESIS_EPOCH } from "../../params/index.js";
import type { PendingAttestation, Validator } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { computeEpochAtSlot } from "../util/epoch.js";
import { bytesEqual } from "../util/math.js";
import { getBlockRoot, getBlockRootAtSlot, GweiSum } from "./util.js";

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
}

export function beforeProcessEpoch(cached: CachedBeaconState): EpochProcess {
  const { config: c, state } = cached;
  const currentEpoch = computeEpochAtSlot(c, state.slot);
  const previousEpoch = currentEpoch === GENESIS_EPOCH ? GENESIS_EPOCH : currentEpoch - 1;
  const increment = c.EFFECTIVE_BALANCE_INCREMENT;

  // getAllReadonlyValues only sees committed data.
  state.validators.commit();
  const validators = state.validators.getAllReadonlyValues();
  const balances = state.balances.getAll();
  const n = validators.length;

  const flags = new Uint8Array(n);
  const effectiveBalances = new Float64Array(n);
  const inclusionDelays = new Float64Array(n);
  const inclusionProposers = new Uint32Array(n);
  const indicesEligibleForActivationQueue: number[] = [];
  const indicesToEject: number[] = [];
  const indicesPendingActivation: number[] = [];
  const indicesSlashed: number[] = [];
  const totalActive = new GweiSum(increment);

  for (let i = 0; i < n; i++) {
    const v = validators[i];
    const eb = v.effectiveBalance;
    effectiveBalances[i] = eb;
    let f = 0;
    if (v.activationEpoch <= previousEpoch && previousEpoch < v.exitEpoch) f |= FLAG_PREV_ACTIVE | FLAG_ELIGIBLE;
    if (v.slashed) {
      f |= FLAG_SLASHED;
      if (previousEpoch + 1 < v.withdrawableEpoch) f |= FLAG_ELIGIBLE;
      indicesSlashed.push(i);
    }
    if (v.activationEpoch <= currentEpoch && currentEpoch < v.exitEpoch) {
      f |= FLAG_CURR_ACTIVE;
      totalActive.add(eb);
      if (eb <= c.EJECTION_BALANCE) indicesToEject.push(i);
    }
    flags[i] = f;
    if (v.activationEligibilityEpoch === FAR_FUTURE_EPOCH && eb === c.MAX_EFFECTIVE_BALANCE) {
      indicesEligibleForActivationQueue.push(i);
    }
    if (v.activationEpoch === FAR_FUTURE_EPOCH) indicesPendingActivation.push(i);
  }

  // get_matching_source_attestations(previous_epoch): in the genesis epoch previous == current, so the spec reads
  // the current epoch's list.
  state.previousEpochAttestations.commit();
  state.currentEpochAttestations.commit();
  const currentAttestations = state.currentEpochAttestations.getAllReadonlyValues();
  const previousAttestations =
    previousEpoch === currentEpoch ? currentAttestations : state.previousEpochAttestations.getAllReadonlyValues();

  // Roots are looked up only when an attestation needs them, as the spec's comprehensions do.
  let prevTargetRoot: Uint8Array | null = null;
  const headRoots = new Map<number, Uint8Array>();
  for (const att of previousAttestations) {
    const data = att.data;
    prevTargetRoot ??= getBlockRoot(c, state, previousEpoch);
    const isTarget = bytesEqual(data.target.root, prevTargetRoot);
    let isHead = false;
    if (isTarget) {
      let headRoot = headRoots.get(data.slot);
      if (headRoot === undefined) {
        headRoot = getBlockRootAtSlot(c, state, data.slot);
        headRoots.set(data.slot, headRoot);
      }
      isHead = bytesEqual(data.beaconBlockRoot, headRoot);
    }
    const attesterFlags = FLAG_PREV_SOURCE | (isTarget ? FLAG_PREV_TARGET : 0) | (isHead ? FLAG_PREV_HEAD : 0);
    const delay = att.inclusionDelay;
    const proposer = att.proposerIndex;
    forEachAttester(cached, att, (index) => {
      const f = flags[index];
      if (f & FLAG_SLASHED) return;
      // min(..., key=inclusion_delay) keeps the first attestation with the smallest delay
      if ((f & FLAG_PREV_SOURCE) === 0 || delay < inclusionDelays[index]) {
        inclusionDelays[index] = delay;
        inclusionProposers[index] = proposer;
      }
      flags[index] = f | attesterFlags;
    });
  }

  let currTargetRoot: Uint8Array | null = null;
  for (const att of currentAttestations) {
    currTargetRoot ??= getBlockRoot(c, state, currentEpoch);
    if (!bytesEqual(att.data.target.root, currTargetRoot)) continue;
    forEachAttester(cached, att, (index) => {
      if ((flags[index] & FLAG_SLASHED) === 0) flags[index] |= FLAG_CURR_TARGET;
    });
  }

  const prevSource = new GweiSum(increment);
  const prevTarget = new GweiSum(increment);
  const prevHead = new GweiSum(increment);
  const currTarget = new GweiSum(increment);
  for (let i = 0; i < n; i++) {
    const f = flags[i];
    if ((f & (FLAG_PREV_SOURCE | FLAG_CURR_TARGET)) === 0) continue;
    const eb = effectiveBalances[i];
    if (f & FLAG_PREV_SOURCE) prevSource.add(eb);
    if (f & FLAG_PREV_TARGET) prevTarget.add(eb);
    if (f & FLAG_PREV_HEAD) prevHead.add(eb);
    if (f & FLAG_CURR_TARGET) currTarget.add(eb);
  }

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
    totalActiveBalance: totalActive.total(),
    prevEpochSourceBalance: prevSource.total(),
    prevEpochTargetBalance: prevTarget.total(),
    prevEpochHeadBalance: prevHead.total(),
    currEpochTargetBalance: currTarget.total(),
    indicesEligibleForActivationQueue,
    indicesToEject,
    indicesPendingActivation,
    indicesSlashed,
  };
}

// get_attesting_indices, without building the set: calls `fn` for each committee member whose bit is set.
function forEachAttester(cached: CachedBeaconState, att: PendingAttestation, fn: (index: number) => void): void {
  const committee = cached.epochCtx.getBeaconCommittee(att.data.slot, att.data.index);
  const bits = att.aggregationBits;
  // The spec reads bits[i] for every committee position; a shorter bitlist is an IndexError there.
  if (bits.bitLen < committee.length) {
    throw new Error(`aggregation bits length ${bits.bitLen} < committee size ${committee.length}`);
  }
  const bytes = bits.uint8Array;
  for (let i = 0; i < committee.length; i++) {
    if ((bytes[i >>> 3] >>> (i & 7)) & 1) fn(committee[i]);
  }
}
