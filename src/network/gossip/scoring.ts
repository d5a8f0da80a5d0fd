// Gossipsub parameters for Eth2: the mesh parameters of p2p-interface.md's table, and gossipsub v1.1 peer scoring
// with the parameters recommended for Eth2 ("Gossipsub v1.1 peer scoring parameters for Eth2", as Lighthouse and
// Lodestar derive them): every rate and decay is computed from the config (SECONDS_PER_SLOT, SLOTS_PER_EPOCH,
// committee sizes) and the active validator count, so minimal presets and short slots score sensibly too.
import type { GossipsubOpts } from "@libp2p/gossipsub";
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from "@libp2p/gossipsub/score";
import type { BeaconConfig } from "../../config/index.js";
import { ATTESTATION_SUBNET_COUNT } from "../../params/index.js";
import { computeCommitteeCountPerSlot } from "../../state-transition/cache/epochShuffling.js";
import { gossipFastMsgIdFn, gossipMsgIdFn } from "./encoding.js";
import { formatTopic, forkDigestHex, type GossipTopic } from "./topics.js";

// p2p-interface.md, "Gossipsub Parameters"
export const GOSSIP_D = 8;
export const GOSSIP_D_LOW = 6;
export const GOSSIP_D_HIGH = 12;
export const GOSSIP_D_LAZY = 6;
export const HEARTBEAT_INTERVAL_MS = 700;
export const FANOUT_TTL_MS = 60_000;
export const MCACHE_LENGTH = 6;
export const MCACHE_GOSSIP = 3;
/** seen_ttl is 550 heartbeats; gossipsub takes milliseconds */
export const SEEN_TTL_MS = 550 * HEARTBEAT_INTERVAL_MS;

export const gossipScoreThresholds: PeerScoreThresholds = {
  gossipThreshold: -4000,
  publishThreshold: -8000,
  graylistThreshold: -16000,
  acceptPXThreshold: 100,
  opportunisticGraftThreshold: 5,
};

// The most a peer can earn per topic: P1 (time in mesh) up to 10 and P2 (first deliveries) up to 40, times the
// topic weights. The negative parameters are scaled against it so one kind of misbehaviour outweighs all credit.
const MAX_IN_MESH_SCORE = 10;
const MAX_FIRST_MESSAGE_DELIVERIES_SCORE = 40;
const TOPIC_WEIGHTS = {
  beacon_block: 0.5,
  beacon_aggregate_and_proof: 0.5,
  beacon_attestation: 1 / ATTESTATION_SUBNET_COUNT,
  voluntary_exit: 0.05,
  proposer_slashing: 0.05,
  attester_slashing: 0.05,
} as const;
export const MAX_POSITIVE_SCORE =
  (MAX_IN_MESH_SCORE + MAX_FIRST_MESSAGE_DELIVERIES_SCORE) *
  (TOPIC_WEIGHTS.beacon_block +
    TOPIC_WEIGHTS.beacon_aggregate_and_proof +
    TOPIC_WEIGHTS.beacon_attestation * ATTESTATION_SUBNET_COUNT +
    TOPIC_WEIGHTS.voluntary_exit +
    TOPIC_WEIGHTS.proposer_slashing +
    TOPIC_WEIGHTS.attester_slashing);

const DECAY_TO_ZERO = 0.01;

export interface ScoreOptions {
  /** active validators (message rates of aggregates and attestations follow from it) */
  activeValidatorCount: number;
  /** the wall-clock slot: mesh delivery scoring waits until the chain is older than its decay window */
  currentSlot: number;
  /** P3 mesh message deliveries; false turns it off (small testnets have too little traffic per topic) */
  meshMessageDeliveries?: boolean;
}

/** The config's time units, in milliseconds, and the decay factor per decay interval (one slot). */
function timing(config: BeaconConfig) {
  const slotMs = config.SECONDS_PER_SLOT * 1000;
  // gossipsub refuses a decay interval under 1 s
  const decayIntervalMs = Math.max(1000, slotMs);
  const epochMs = slotMs * config.SLOTS_PER_EPOCH;
  /** the per-interval factor that brings a counter down to DECAY_TO_ZERO after `ms` */
  const decay = (ms: number) => Math.pow(DECAY_TO_ZERO, decayIntervalMs / ms);
  /** messages per decay interval from a per-slot rate */
  const perInterval = (perSlot: number) => (perSlot * decayIntervalMs) / slotMs;
  return { slotMs, epochMs, decayIntervalMs, decay, perInterval };
}

/** The value a counter that grows by `rate` each interval and decays by `decay` converges to. */
function convergence(decay: number, rate: number): number {
  return rate / (1 - decay);
}

/** The global (non-topic) score parameters. */
export function computePeerScoreParams(
  config: BeaconConfig,
  opts: { ipColocationWhitelist?: string[]; appSpecificScore?: (peerId: string) => number } = {},
): Omit<PeerScoreParams, "topics"> {
  const { epochMs, decayIntervalMs, decay, perInterval } = timing(config);
  const topicScoreCap = MAX_POSITIVE_SCORE / 2;
  // P7: a peer may break ~10 promises an epoch for free; the penalty reaches the gossip threshold beyond that
  const behaviourPenaltyThreshold = 6;
  const behaviourPenaltyDecay = decay(10 * epochMs);
  const target = convergence(behaviourPenaltyDecay, perInterval(10 / config.SLOTS_PER_EPOCH)) - behaviourPenaltyThreshold;
  return {
    topicScoreCap,
    appSpecificScore: opts.appSpecificScore ?? (() => 0),
    appSpecificWeight: 1,
    IPColocationFactorWeight: -topicScoreCap,
    IPColocationFactorThreshold: 3,
    IPColocationFactorWhitelist: new Set(opts.ipColocationWhitelist ?? []),
    behaviourPenaltyWeight: gossipScoreThresholds.gossipThreshold / (target * target),
    behaviourPenaltyThreshold,
    behaviourPenaltyDecay,
    decayInterval: decayIntervalMs,
    decayToZero: DECAY_TO_ZERO,
    retainScore: 100 * epochMs,
  };
}

interface TopicInputs {
  weight: number;
  /** expected messages per slot on the topic */
  ratePerSlot: number;
  firstMessageDecayMs: number;
  mesh?: { decaySlots: number; capFactor: number; activationMs: number };
}

function topicScoreParams(config: BeaconConfig, opts: ScoreOptions, t: TopicInputs): TopicScoreParams {
  const { slotMs, decay, perInterval } = timing(config);
  const rate = perInterval(t.ratePerSlot);
  // P1: one quantum per slot, capped at an hour in the mesh, worth at most 10
  const timeInMeshCap = 3600 / config.SECONDS_PER_SLOT;
  // P2: capped at what a peer delivering its share (2/D of the topic's messages) converges to, worth at most 40
  const firstMessageDeliveriesDecay = decay(t.firstMessageDecayMs);
  const firstMessageDeliveriesCap = convergence(firstMessageDeliveriesDecay, (2 * rate) / GOSSIP_D);
  const p: TopicScoreParams = {
    topicWeight: t.weight,
    timeInMeshWeight: MAX_IN_MESH_SCORE / timeInMeshCap,
    timeInMeshQuantum: slotMs,
    timeInMeshCap,
    firstMessageDeliveriesWeight: MAX_FIRST_MESSAGE_DELIVERIES_SCORE / firstMessageDeliveriesCap,
    firstMessageDeliveriesDecay,
    firstMessageDeliveriesCap,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0,
    meshMessageDeliveriesCap: 0,
    meshMessageDeliveriesThreshold: 0,
    meshMessageDeliveriesWindow: 0,
    meshMessageDeliveriesActivation: 0,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0,
    // P4: one invalid message costs as much as all a peer can earn on the topic
    invalidMessageDeliveriesWeight: -MAX_POSITIVE_SCORE / t.weight,
    invalidMessageDeliveriesDecay: decay(50 * config.SLOTS_PER_EPOCH * slotMs),
  };
  // P3: too few deliveries from a mesh peer; only once the network has run longer than the decay window
  if (t.mesh && opts.meshMessageDeliveries !== false && opts.currentSlot > t.mesh.decaySlots) {
    const meshDecay = decay(t.mesh.decaySlots * slotMs);
    const threshold = convergence(meshDecay, rate / 50) * meshDecay;
    const weight = -MAX_POSITIVE_SCORE / (t.weight * threshold * threshold);
    Object.assign(p, {
      meshMessageDeliveriesWeight: weight,
      meshMessageDeliveriesDecay: meshDecay,
      meshMessageDeliveriesThreshold: threshold,
      meshMessageDeliveriesCap: Math.max(t.mesh.capFactor * threshold, 2),
      // JS event-loop lag: a near-first delivery counts within a slot (at least 2 s)
      meshMessageDeliveriesWindow: Math.max(2000, Math.min(12_000, slotMs)),
      meshMessageDeliveriesActivation: Math.max(1000, t.mesh.activationMs),
      meshFailurePenaltyWeight: weight,
      meshFailurePenaltyDecay: meshDecay,
    });
  }
  return p;
}

/** Aggregates and committees per slot expected for `activeValidatorCount` (validator.md is_aggregator, on average). */
export function expectedAggregatorsPerSlot(config: BeaconConfig, activeValidatorCount: number): { aggregatorsPerSlot: number; committeesPerSlot: number } {
  const active = Math.max(1, activeValidatorCount);
  const committeesPerSlot = computeCommitteeCountPerSlot(config, active);
  const committeeSize = active / (committeesPerSlot * config.SLOTS_PER_EPOCH);
  const modulo = Math.max(1, Math.floor(committeeSize / config.TARGET_AGGREGATORS_PER_COMMITTEE));
  return { aggregatorsPerSlot: Math.max(1, (committeesPerSlot * committeeSize) / modulo), committeesPerSlot };
}

/** Score parameters of every phase 0 topic of `forkDigest`, keyed by topic string. */
export function computeTopicScoreParams(config: BeaconConfig, forkDigest: string, opts: ScoreOptions): Record<string, TopicScoreParams> {
  const { epochMs, slotMs } = timing(config);
  const spe = config.SLOTS_PER_EPOCH;
  const active = Math.max(1, opts.activeValidatorCount);
  const { aggregatorsPerSlot, committeesPerSlot } = expectedAggregatorsPerSlot(config, active);
  const out: Record<string, TopicScoreParams> = {};
  const put = (topic: GossipTopic, t: TopicInputs) => (out[formatTopic(topic)] = topicScoreParams(config, opts, t));

  put({ name: "beacon_block", forkDigest }, {
    weight: TOPIC_WEIGHTS.beacon_block,
    ratePerSlot: 1,
    firstMessageDecayMs: 20 * epochMs,
    mesh: { decaySlots: 5 * spe, capFactor: 3, activationMs: epochMs },
  });
  put({ name: "beacon_aggregate_and_proof", forkDigest }, {
    weight: TOPIC_WEIGHTS.beacon_aggregate_and_proof,
    ratePerSlot: aggregatorsPerSlot,
    firstMessageDecayMs: epochMs,
    mesh: { decaySlots: 2 * spe, capFactor: 4, activationMs: epochMs },
  });
  // each subnet sees one burst per slot when committees cover the subnets more than twice an epoch
  const multipleBursts = committeesPerSlot >= (2 * ATTESTATION_SUBNET_COUNT) / spe;
  const subnetInputs: TopicInputs = {
    weight: TOPIC_WEIGHTS.beacon_attestation,
    ratePerSlot: active / ATTESTATION_SUBNET_COUNT / spe,
    firstMessageDecayMs: multipleBursts ? epochMs : 4 * epochMs,
    mesh: {
      decaySlots: multipleBursts ? 4 * spe : 16 * spe,
      capFactor: 16,
      activationMs: multipleBursts ? slotMs * (spe / 2 + 1) : epochMs,
    },
  };
  for (let subnet = 0; subnet < ATTESTATION_SUBNET_COUNT; subnet++) put({ name: "beacon_attestation", subnet, forkDigest }, subnetInputs);
  put({ name: "voluntary_exit", forkDigest }, { weight: TOPIC_WEIGHTS.voluntary_exit, ratePerSlot: 4 / spe, firstMessageDecayMs: 100 * epochMs });
  put({ name: "proposer_slashing", forkDigest }, { weight: TOPIC_WEIGHTS.proposer_slashing, ratePerSlot: 1 / 5 / spe, firstMessageDecayMs: 100 * epochMs });
  put({ name: "attester_slashing", forkDigest }, { weight: TOPIC_WEIGHTS.attester_slashing, ratePerSlot: 1 / 5 / spe, firstMessageDecayMs: 100 * epochMs });
  return out;
}

export interface GossipsubOptionsInput extends Partial<ScoreOptions> {
  /** when given (with activeValidatorCount), the topic score parameters are included; the Gossip class installs them otherwise */
  forkDigest?: Uint8Array | string;
  /** IPs exempt from the IP-colocation penalty (a loopback testnet: ["127.0.0.1"]) */
  ipColocationWhitelist?: string[];
  /** P5, e.g. from the peer manager */
  appSpecificScore?: (peerId: string) => number;
}

/**
 * Options for createCairnLibp2p's `gossip`: the spec's mesh parameters, the v1.0 message id, and Eth2 scoring.
 * Async validation stays on: the Gossip class validates each message and reports the result.
 */
export function createGossipsubOptions(config: BeaconConfig, opts: GossipsubOptionsInput = {}): Partial<GossipsubOpts> {
  const topics =
    opts.forkDigest !== undefined && opts.activeValidatorCount !== undefined
      ? computeTopicScoreParams(config, forkDigestHex(opts.forkDigest), {
          activeValidatorCount: opts.activeValidatorCount,
          currentSlot: opts.currentSlot ?? 0,
          meshMessageDeliveries: opts.meshMessageDeliveries,
        })
      : {};
  return {
    D: GOSSIP_D,
    Dlo: GOSSIP_D_LOW,
    Dhi: GOSSIP_D_HIGH,
    Dlazy: GOSSIP_D_LAZY,
    heartbeatInterval: HEARTBEAT_INTERVAL_MS,
    fanoutTTL: FANOUT_TTL_MS,
    mcacheLength: MCACHE_LENGTH,
    mcacheGossip: MCACHE_GOSSIP,
    seenTTL: SEEN_TTL_MS,
    msgIdFn: gossipMsgIdFn,
    fastMsgIdFn: gossipFastMsgIdFn,
    globalSignaturePolicy: "StrictNoSign",
    asyncValidation: true,
    // publishing what the network already has (a block that arrived by gossip, re-sent by the API) is a no-op
    ignoreDuplicatePublishError: true,
    scoreParams: { ...computePeerScoreParams(config, opts), topics },
    scoreThresholds: { ...gossipScoreThresholds },
  };
}
