// get_attestation_deltas and its five components (get_source_deltas, get_target_deltas, get_head_deltas,
// get_inclusion_delay_deltas, get_inactivity_penalty_deltas), computed in one pass over the flat per-validator
// status of beforeProcessEpoch. Every rule is written once, in computeAttestationDeltas; processRewardsAndPenalties
// asks it for the summed deltas only, the spec tests for the five components separately.
import { BASE_REWARDS_PER_EPOCH } from "../../params/index.js";
import type { BeaconConfig } from "../../config/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import {
  FLAG_ELIGIBLE,
  FLAG_PREV_HEAD,
  FLAG_PREV_SOURCE,
  FLAG_PREV_TARGET,
  type EpochProcess,
} from "./beforeProcessEpoch.js";
import { integerSquareRootBig, mulDivFloor, toIncrements } from "./util.js";

export type AttestationComponent = "source" | "target" | "head" | "inclusionDelay" | "inactivityPenalty";
export interface Deltas {
  rewards: number[];
  penalties: number[];
}
export type AttestationComponentDeltas = Record<AttestationComponent, Deltas>;

/** The epoch-wide inputs of the reward formulas. */
interface RewardEpochValues {
  /** integer_squareroot(get_total_active_balance(state)) */
  sqrtTotalActiveBalance: number;
  /** total_balance // increment, and attesting_balance // increment for the three matching attestation sets */
  totalIncrements: number;
  sourceIncrements: number;
  targetIncrements: number;
  headIncrements: number;
  /** is_in_inactivity_leak(state) and get_finality_delay(state) */
  inLeak: boolean;
  finalityDelay: number;
}

/** Everything that depends on a validator's effective balance only; one per distinct effective balance. */
interface BalanceRewards {
  baseReward: number;
  proposerReward: number;
  sourceReward: number;
  targetReward: number;
  headReward: number;
  /** base_reward - proposer_reward, before division by the inclusion delay */
  maxAttesterReward: number;
  /** in a leak: BASE_REWARDS_PER_EPOCH * base_reward - proposer_reward, for every eligible validator */
  inactivityPenalty: number;
  /** in a leak: effective_balance * finality_delay // INACTIVITY_PENALTY_QUOTIENT, for those not on target */
  inactivityPenaltyNotTarget: number;
}

function getRewardEpochValues(cached: CachedBeaconState, ep: EpochProcess): RewardEpochValues {
  const inc = cached.config.EFFECTIVE_BALANCE_INCREMENT;
  // get_finality_delay reads the finalized checkpoint now: in process_epoch that is after justification.
  const finalityDelay = ep.previousEpoch - cached.state.finalizedCheckpoint.epoch;
  return {
    sqrtTotalActiveBalance: integerSquareRootBig(ep.totalActiveBalance),
    totalIncrements: toIncrements(ep.totalActiveBalance, inc),
    sourceIncrements: toIncrements(ep.prevEpochSourceBalance, inc),
    targetIncrements: toIncrements(ep.prevEpochTargetBalance, inc),
    headIncrements: toIncrements(ep.prevEpochHeadBalance, inc),
    inLeak: finalityDelay > cached.config.MIN_EPOCHS_TO_INACTIVITY_PENALTY,
    finalityDelay,
  };
}

// get_base_reward
function getBaseReward(c: BeaconConfig, effectiveBalance: number, sqrtTotalActiveBalance: number): number {
  return Math.floor(mulDivFloor(effectiveBalance, c.BASE_REWARD_FACTOR, sqrtTotalActiveBalance) / BASE_REWARDS_PER_EPOCH);
}

// The reward half of get_attestation_component_deltas (the penalty for missing it is the base reward).
function getComponentReward(e: RewardEpochValues, baseReward: number, attestingIncrements: number): number {
  // In a leak the full base reward is paid; the inactivity penalty cancels it out for optimal participation.
  if (e.inLeak) return baseReward;
  return mulDivFloor(baseReward, attestingIncrements, e.totalIncrements);
}

function computeBalanceRewards(c: BeaconConfig, e: RewardEpochValues, effectiveBalance: number): BalanceRewards {
  const baseReward = getBaseReward(c, effectiveBalance, e.sqrtTotalActiveBalance);
  // get_proposer_reward
  const proposerReward = Math.floor(baseReward / c.PROPOSER_REWARD_QUOTIENT);
  return {
    baseReward,
    proposerReward,
    sourceReward: getComponentReward(e, baseReward, e.sourceIncrements),
    targetReward: getComponentReward(e, baseReward, e.targetIncrements),
    headReward: getComponentReward(e, baseReward, e.headIncrements),
    maxAttesterReward: baseReward - proposerReward,
    inactivityPenalty: e.inLeak ? BASE_REWARDS_PER_EPOCH * baseReward - proposerReward : 0,
    inactivityPenaltyNotTarget: e.inLeak
      ? mulDivFloor(effectiveBalance, e.finalityDelay, c.INACTIVITY_PENALTY_QUOTIENT)
      : 0,
  };
}

/**
 * Adds every validator's net attestation deltas (rewards minus penalties, summed over the five components, as
 * get_attestation_deltas) into `net` and, when `components` is given, each component's rewards and penalties into
 * its own arrays too. The net is all process_rewards_and_penalties needs: it applies increase_balance(rewards) then
 * decrease_balance(penalties), i.e. max(0, balance + rewards - penalties).
 */
export function computeAttestationDeltas(
  cached: CachedBeaconState,
  ep: EpochProcess,
  net: Float64Array,
  components: AttestationComponentDeltas | null,
): void {
  const c = cached.config;
  const e = getRewardEpochValues(cached, ep);
  const inc = c.EFFECTIVE_BALANCE_INCREMENT;
  const { flags, effectiveBalances, inclusionDelays, inclusionProposers } = ep;

  // Effective balances are nearly always whole increments up to MAX_EFFECTIVE_BALANCE: a table by increment
  // holds their rewards; any other effective balance gets its own entry on first use.
  const maxIncrements = Math.floor(c.MAX_EFFECTIVE_BALANCE / inc);
  const byIncrement: BalanceRewards[] = [];
  for (let q = 0; q <= maxIncrements; q++) byIncrement.push(computeBalanceRewards(c, e, q * inc));
  const byBalance = new Map<number, BalanceRewards>();
  const rewardsFor = (eb: number): BalanceRewards => {
    const q = eb / inc;
    if (Number.isInteger(q) && q <= maxIncrements) return byIncrement[q];
    let r = byBalance.get(eb);
    if (r === undefined) byBalance.set(eb, (r = computeBalanceRewards(c, e, eb)));
    return r;
  };
  const inLeak = e.inLeak;

  for (let i = 0; i < ep.validatorCount; i++) {
    const f = flags[i];
    if ((f & (FLAG_ELIGIBLE | FLAG_PREV_SOURCE)) === 0) continue;
    const r = rewardsFor(effectiveBalances[i]);

    if (f & FLAG_ELIGIBLE) {
      // get_source_deltas / get_target_deltas / get_head_deltas (get_attestation_component_deltas)
      const source = f & FLAG_PREV_SOURCE ? r.sourceReward : -r.baseReward;
      const target = f & FLAG_PREV_TARGET ? r.targetReward : -r.baseReward;
      const head = f & FLAG_PREV_HEAD ? r.headReward : -r.baseReward;
      // get_inactivity_penalty_deltas
      let inactivity = 0;
      if (inLeak) {
        inactivity = r.inactivityPenalty;
        if ((f & FLAG_PREV_TARGET) === 0) inactivity += r.inactivityPenaltyNotTarget;
      }
      net[i] += source + target + head - inactivity;
      if (components !== null) {
        addSigned(components.source.rewards, components.source.penalties, i, source);
        addSigned(components.target.rewards, components.target.penalties, i, target);
        addSigned(components.head.rewards, components.head.penalties, i, head);
        components.inactivityPenalty.penalties[i] += inactivity;
      }
    }

    if (f & FLAG_PREV_SOURCE) {
      // get_inclusion_delay_deltas: the proposer that included the earliest attestation, and the attester
      const proposer = inclusionProposers[i];
      const attesterReward = Math.floor(r.maxAttesterReward / inclusionDelays[i]);
      net[proposer] += r.proposerReward;
      net[i] += attesterReward;
      if (components !== null) {
        components.inclusionDelay.rewards[proposer] += r.proposerReward;
        components.inclusionDelay.rewards[i] += attesterReward;
      }
    }
  }
}

/** A positive amount is a reward, a negative one a penalty (components never give both to one validator). */
function addSigned(rewards: ArrayLike<number> & { [i: number]: number }, penalties: typeof rewards, i: number, v: number) {
  if (v >= 0) rewards[i] += v;
  else penalties[i] -= v;
}

/** The spec's five get_*_deltas, one entry per validator each. */
export function getAttestationComponentDeltas(cached: CachedBeaconState, ep: EpochProcess): AttestationComponentDeltas {
  const n = ep.validatorCount;
  const zeros = (): Deltas => ({ rewards: new Array<number>(n).fill(0), penalties: new Array<number>(n).fill(0) });
  const components: AttestationComponentDeltas = {
    source: zeros(),
    target: zeros(),
    head: zeros(),
    inclusionDelay: zeros(),
    inactivityPenalty: zeros(),
  };
  computeAttestationDeltas(cached, ep, new Float64Array(n), components);
  return components;
}

/** get_attestation_deltas: rewards and penalties summed over the five components. */
export function getAttestationDeltas(
  cached: CachedBeaconState,
  ep: EpochProcess,
): { rewards: Float64Array; penalties: Float64Array } {
  const n = ep.validatorCount;
  const rewards = new Float64Array(n);
  const penalties = new Float64Array(n);
  for (const d of Object.values(getAttestationComponentDeltas(cached, ep))) {
    for (let i = 0; i < n; i++) {
      rewards[i] += d.rewards[i];
      penalties[i] += d.penalties[i];
    }
  }
  return { rewards, penalties };
}

/** rewards - penalties of get_attestation_deltas, per validator: what process_rewards_and_penalties applies. */
export function getAttestationNetDeltas(cached: CachedBeaconState, ep: EpochProcess): Float64Array {
  const net = new Float64Array(ep.validatorCount);
  computeAttestationDeltas(cached, ep, net, null);
  return net;
}
