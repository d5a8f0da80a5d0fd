// Gossip validation, topic by topic, after p2p-interface.md v1.0. Each [IGNORE] / [REJECT] rule throws a
// GossipValidationError with that action; returning means ACCEPT. Attestations and aggregates reuse the pools'
// checks (chain/opPools/validation.ts) for the rules they share with the API; what only gossip has (clock
// disparity, subnets, first-seen caches, IGNORE versus REJECT) is here. Accepted operations go into the pools.
import { TopicValidatorResult } from "@libp2p/gossipsub";
import { BlockError, blockErrorOutcome } from "../../chain/blocks/errors.js";
import type { GossipVerifiedBlock } from "../../chain/blocks/types.js";
import type { BeaconChain } from "../../chain/chain.js";
import { OpValidationError, type OpPools } from "../../chain/opPools/index.js";
import { attestationSignatureSet, checkAggregateAndProof, checkAttestation } from "../../chain/opPools/validation.js";
import type { BeaconConfig } from "../../config/index.js";
import type { SignatureSet } from "../../crypto/bls.js";
import { ATTESTATION_PROPAGATION_SLOT_RANGE, MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS } from "../../params/index.js";
import { computeEpochAtSlot } from "../../state-transition/util/epoch.js";
import { toHex } from "../../util/bytes.js";
import type {
  Attestation,
  AttesterSlashing,
  ProposerSlashing,
  SignedAggregateAndProof,
  SignedBeaconBlock,
  SignedVoluntaryExit,
} from "../../types/index.js";
import type { GossipSeenCaches } from "./seenCache.js";
import { computeSubnetForAttestation } from "./subnets.js";

export type GossipAction = "ignore" | "reject";

export class GossipValidationError extends Error {
  constructor(
    readonly action: GossipAction,
    message: string,
  ) {
    super(message);
    this.name = "GossipValidationError";
  }
}

export function toTopicValidatorResult(action: GossipAction): TopicValidatorResult {
  return action === "reject" ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore;
}

const ignore = (msg: string) => new GossipValidationError("ignore", msg);
const reject = (msg: string) => new GossipValidationError("reject", msg);

/** The wall clock. With `slotAt` and `now` (SlotClock has both) the MAXIMUM_GOSSIP_CLOCK_DISPARITY allowance applies. */
export interface GossipClock {
  currentSlot(): number;
  slotAt?(ms: number): number;
  now?(): number;
}

/** The latest and earliest slot the clock may be at, within the allowed disparity. */
export function clockSlotRange(clock: GossipClock): { latest: number; earliest: number } {
  if (clock.slotAt && clock.now) {
    const now = clock.now();
    return { latest: clock.slotAt(now + MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS), earliest: clock.slotAt(now - MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS) };
  }
  const slot = clock.currentSlot();
  return { latest: slot, earliest: slot };
}

export interface SignatureVerifier {
  verifySignatureSets(sets: SignatureSet[]): Promise<boolean>;
}

export interface GossipValidationContext {
  config: BeaconConfig;
  chain: BeaconChain;
  pools: OpPools;
  clock: GossipClock;
  bls: SignatureVerifier;
  seen: GossipSeenCaches;
  /** a block whose parent is unknown (signature checked where possible): look the parent up */
  onUnknownParent?: (block: SignedBeaconBlock, peerId: string) => void;
  /** an attestation voting for an unknown block */
  onUnknownBlockRoot?: (root: string, peerId: string) => void;
}

function pruneSeen(ctx: GossipValidationContext): void {
  const finalizedSlot = ctx.chain.query.finalizedSlot;
  ctx.seen.prune(ctx.clock.currentSlot(), finalizedSlot, ctx.config.SLOTS_PER_EPOCH);
}

async function verify(ctx: GossipValidationContext, sets: SignatureSet[], what: string): Promise<void> {
  let valid: boolean;
  try {
    valid = await ctx.bls.verifySignatureSets(sets);
  } catch (e) {
    throw reject(`${what}: ${(e as Error).message}`);
  }
  if (!valid) throw reject(what);
}

/** Errors of the pools' checks are rule violations (REJECT); anything else (regen, ...) is our failure (IGNORE). */
function mapOpError(e: unknown): GossipValidationError {
  if (e instanceof GossipValidationError) return e;
  if (e instanceof OpValidationError) return reject(e.message);
  return ignore(`cannot validate now: ${(e as Error).message ?? String(e)}`);
}

// --- beacon_block ------------------------------------------------------------------------------------------------

/**
 * beacon_block: the rules are the chain's (chain/blocks/gossip.ts), whose errors say IGNORE or REJECT; a block whose
 * parent is unknown waits in the chain's pending pool while the parent is looked up.
 */
export async function validateGossipBlock(ctx: GossipValidationContext, signed: SignedBeaconBlock, peerId: string): Promise<GossipVerifiedBlock> {
  pruneSeen(ctx);
  try {
    return await ctx.chain.validateGossipBlock(signed, ctx.seen.blockProposers);
  } catch (e) {
    if (!(e instanceof BlockError)) throw ignore(`cannot validate now: ${(e as Error).message ?? String(e)}`);
    if (e.data.code === "PARENT_UNKNOWN") ctx.onUnknownParent?.(signed, peerId);
    throw new GossipValidationError(blockErrorOutcome(e).gossip, e.message);
  }
}

// --- attestations ------------------------------------------------------------------------------------------------

/** The rules both attestation topics check first, from the clock and fork choice alone. */
function checkAttestationBasics(ctx: GossipValidationContext, att: Attestation, peerId: string): void {
  const c = ctx.config;
  const data = att.data;
  const { latest, earliest } = clockSlotRange(ctx.clock);
  // p2p-interface.md lists the slot range first (IGNORE) and the epoch match second (REJECT); a mismatched
  // epoch is invalid whatever the clock says, so it is checked first
  if (data.target.epoch !== computeEpochAtSlot(c, data.slot)) {
    throw reject(`target epoch ${data.target.epoch} is not the epoch of slot ${data.slot}`);
  }
  if (data.slot > latest) throw ignore(`attestation slot ${data.slot} is in the future (clock slot ${latest})`);
  if (data.slot + ATTESTATION_PROPAGATION_SLOT_RANGE < earliest) {
    throw ignore(`attestation slot ${data.slot} is older than ${ATTESTATION_PROPAGATION_SLOT_RANGE} slots (clock slot ${earliest})`);
  }
  const blockRoot = toHex(data.beaconBlockRoot);
  if (ctx.chain.query.isKnownInvalid(blockRoot)) throw reject(`votes for the invalid block ${blockRoot}`);
  if (!ctx.chain.query.hasBlock(blockRoot)) {
    ctx.onUnknownBlockRoot?.(blockRoot, peerId);
    throw ignore(`votes for the unknown block ${blockRoot}`);
  }
}

export interface ValidatedAttestation {
  validatorIndex: number;
}

/** beacon_attestation_{subnet_id}; on ACCEPT the attestation is pooled and given to fork choice. */
export async function validateGossipAttestation(
  ctx: GossipValidationContext,
  att: Attestation,
  subnet: number,
  peerId: string,
): Promise<ValidatedAttestation> {
  const { config: c, seen } = ctx;
  pruneSeen(ctx);
  const bit = att.aggregationBits.getSingleTrueBit();
  if (bit === null) throw reject("the attestation must have exactly one aggregation bit set");
  checkAttestationBasics(ctx, att, peerId);
  const epoch = att.data.target.epoch;
  let checked: Awaited<ReturnType<typeof checkAttestation>>;
  let set: SignatureSet;
  try {
    checked = await checkAttestation(ctx.chain, att, ctx.clock.currentSlot());
    const committeesPerSlot = checked.state.epochCtx.getCommitteeCountPerSlot(epoch);
    const expected = computeSubnetForAttestation(c, committeesPerSlot, att.data.slot, att.data.index);
    if (expected !== subnet) throw reject(`attestation belongs to subnet ${expected}, not ${subnet}`);
    set = attestationSignatureSet(checked.state, att);
  } catch (e) {
    throw mapOpError(e);
  }
  const validatorIndex = checked.committee[bit];
  if (seen.attesters.has(epoch, validatorIndex)) throw ignore(`already saw an attestation of validator ${validatorIndex} for epoch ${epoch}`);
  await verify(ctx, [set], "invalid attestation signature");
  if (seen.attesters.has(epoch, validatorIndex)) throw ignore(`already saw an attestation of validator ${validatorIndex} for epoch ${epoch}`);
  seen.attesters.add(epoch, validatorIndex);

  const pools = ctx.pools;
  pools.prune(); // drops attestations past their inclusion window (cheap)
  let added: "added" | "known" = "known";
  try {
    added = pools.attestations.add(att, checked.dataRoot);
  } catch {
    // the pool is full of newer data: the attestation is still valid gossip and still counts for fork choice
  }
  ctx.chain.onAttestation(att, checked.state);
  pools.recordLiveness(epoch, [validatorIndex]);
  if (added === "added") emitSafe(() => pools.emitter.emit("attestation", att));
  return { validatorIndex };
}

/** beacon_aggregate_and_proof; on ACCEPT the aggregate is pooled and given to fork choice. */
export async function validateGossipAggregate(ctx: GossipValidationContext, signed: SignedAggregateAndProof, peerId: string): Promise<void> {
  const { config: c, seen } = ctx;
  pruneSeen(ctx);
  const { aggregate, aggregatorIndex } = signed.message;
  const data = aggregate.data;
  checkAttestationBasics(ctx, aggregate, peerId);
  const aggregateRoot = toHex(c.types.Attestation.hashTreeRoot(aggregate));
  if (seen.aggregateRoots.has(data.slot, aggregateRoot)) throw ignore(`aggregate ${aggregateRoot} already seen`);
  const epoch = data.target.epoch;
  if (seen.aggregators.has(epoch, aggregatorIndex)) throw ignore(`already saw an aggregate of aggregator ${aggregatorIndex} for epoch ${epoch}`);
  if (aggregate.aggregationBits.getTrueBitIndexes().length === 0) throw reject("the aggregate has no participants");
  let checked: Awaited<ReturnType<typeof checkAggregateAndProof>>;
  try {
    checked = await checkAggregateAndProof(ctx.chain, signed, ctx.clock.currentSlot());
  } catch (e) {
    throw mapOpError(e);
  }
  await verify(ctx, checked.sets, "invalid selection proof, aggregator or aggregate signature");
  if (seen.aggregators.has(epoch, aggregatorIndex)) throw ignore(`already saw an aggregate of aggregator ${aggregatorIndex} for epoch ${epoch}`);
  seen.aggregators.add(epoch, aggregatorIndex);
  seen.aggregateRoots.add(data.slot, aggregateRoot);

  const pools = ctx.pools;
  pools.prune();
  let added: "added" | "known" = "known";
  try {
    added = pools.aggregates.add(aggregate, checked.dataRoot);
  } catch {
    // pool full: still valid gossip
  }
  ctx.chain.onAttestation(aggregate, checked.state);
  pools.recordLiveness(epoch, [aggregatorIndex, ...aggregate.aggregationBits.intersectValues(checked.committee)]);
  if (added === "added") emitSafe(() => pools.emitter.emit("attestation", aggregate));
}

// --- exits and slashings -----------------------------------------------------------------------------------------
// The pools run the state transition's own checks (process_voluntary_exit, ...) on a copy of the head state.

export async function validateGossipVoluntaryExit(ctx: GossipValidationContext, exit: SignedVoluntaryExit): Promise<void> {
  const index = exit.message.validatorIndex;
  if (ctx.seen.exits.has(index) || ctx.pools.operations.hasVoluntaryExit(index)) throw ignore(`already saw an exit of validator ${index}`);
  const r = await submit(() => ctx.pools.submitVoluntaryExit(exit));
  ctx.seen.exits.add(index);
  if (r === "known") throw ignore(`already saw an exit of validator ${index}`);
}

export async function validateGossipProposerSlashing(ctx: GossipValidationContext, slashing: ProposerSlashing): Promise<void> {
  const index = slashing.signedHeader1.message.proposerIndex;
  if (ctx.seen.proposerSlashings.has(index) || ctx.pools.operations.hasProposerSlashing(index)) {
    throw ignore(`already saw a proposer slashing of validator ${index}`);
  }
  const r = await submit(() => ctx.pools.submitProposerSlashing(slashing));
  ctx.seen.proposerSlashings.add(index);
  if (r === "known") throw ignore(`already saw a proposer slashing of validator ${index}`);
}

export async function validateGossipAttesterSlashing(ctx: GossipValidationContext, slashing: AttesterSlashing): Promise<void> {
  const second = new Set(slashing.attestation2.attestingIndices);
  const slashed = slashing.attestation1.attestingIndices.filter((i) => second.has(i));
  if (!slashed.some((i) => !ctx.seen.attesterSlashed.has(i))) throw ignore("every validator it slashes was in an earlier attester slashing");
  const r = await submit(() => ctx.pools.submitAttesterSlashing(slashing));
  for (const i of slashed) ctx.seen.attesterSlashed.add(i);
  if (r === "known") throw ignore("attester slashing already pooled");
}

async function submit<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw mapOpError(e);
  }
}

function emitSafe(fn: () => void): void {
  try {
    fn();
  } catch {
    // a listener's failure is its own
  }
}
