// The gossip domain of a node: topic subscriptions, publishing, and validation of every message received.
//
// Each subscribed topic has a gossipsub topic validator that decodes the message and applies the p2p-interface.md
// rules, answering ACCEPT / IGNORE / REJECT (REJECT lowers the sender's gossipsub score, P4). Async validation is on
// (createCairnLibp2p), so gossipsub forwards nothing by itself: an accepted message is reported back to it, and only
// then relayed and credited to its sender. Blocks are imported after they are accepted.
import { TopicValidatorResult, type GossipsubMessage, type Message } from "@libp2p/gossipsub";
import type { TopicScoreParams } from "@libp2p/gossipsub/score";
import type { PeerId } from "@libp2p/interface";
import { BlockError, blockErrorOutcome } from "../../chain/blocks/errors.js";
import type { GossipVerifiedBlock } from "../../chain/blocks/types.js";
import type { BeaconChain } from "../../chain/chain.js";
import type { OpPools } from "../../chain/opPools/index.js";
import type { BeaconConfig } from "../../config/index.js";
import { verifySignatureSets } from "../../crypto/bls.js";
import type { Logger } from "../../util/logger.js";
import type { Attestation, AttesterSlashing, ProposerSlashing, SignedAggregateAndProof, SignedBeaconBlock, SignedVoluntaryExit } from "../../types/index.js";
import type { GossipService } from "../libp2p.js";
import { decodeMessageData, encodeGossipPayload } from "./encoding.js";
import { computeTopicScoreParams } from "./scoring.js";
import { GossipSeenCaches } from "./seenCache.js";
import { checkSubnet, CORE_TOPIC_NAMES, forkDigestHex, formatTopic, topicNameOf, type GossipTopic } from "./topics.js";
import {
  GossipValidationError,
  toTopicValidatorResult,
  validateGossipAggregate,
  validateGossipAttestation,
  validateGossipAttesterSlashing,
  validateGossipBlock,
  validateGossipProposerSlashing,
  validateGossipVoluntaryExit,
  type GossipClock,
  type GossipValidationContext,
  type SignatureVerifier,
} from "./validation.js";

/** Members of the gossipsub implementation that its exported interface leaves out. */
interface GossipsubInternals {
  getScore(peerId: string): number;
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void;
  getMeshPeers(topic: string): string[];
  score: { params: { topics: Record<string, TopicScoreParams> } };
}

export interface GossipOptions {
  libp2p: { services: { pubsub: GossipService } };
  config: BeaconConfig;
  chain: BeaconChain;
  pools: OpPools;
  clock: GossipClock;
  forkDigest: Uint8Array | string;
  /** signature verification (the chain's BLS worker pool); the main thread by default */
  bls?: SignatureVerifier;
  /** a block whose parent is unknown: look the parent up (from `peerId`) */
  onUnknownParent?: (block: SignedBeaconBlock, peerId: string) => void;
  /** an attestation or aggregate voting for an unknown block */
  onUnknownBlockRoot?: (root: string, peerId: string) => void;
  /** a peer sent an invalid message (REJECT), or a block that failed import after passing gossip checks */
  onPeerPenalty?: (peerId: string, reason: string) => void;
  logger?: Logger;
  /** install the Eth2 topic score parameters for this fork digest (default true) */
  scoreTopics?: boolean;
  /** P3 mesh message delivery scoring; off for small testnets (default on, once the chain is old enough) */
  meshMessageDeliveries?: boolean;
}

export interface TopicCounters {
  accept: number;
  ignore: number;
  reject: number;
}

type Decoded =
  | { name: "beacon_block"; value: SignedBeaconBlock }
  | { name: "beacon_aggregate_and_proof"; value: SignedAggregateAndProof }
  | { name: "beacon_attestation"; value: Attestation; subnet: number }
  | { name: "voluntary_exit"; value: SignedVoluntaryExit }
  | { name: "proposer_slashing"; value: ProposerSlashing }
  | { name: "attester_slashing"; value: AttesterSlashing };

const mainThreadBls: SignatureVerifier = { verifySignatureSets: async (sets) => verifySignatureSets(sets) };

export class Gossip {
  readonly forkDigest: string;
  private readonly pubsub: GossipService;
  private readonly internals: GossipsubInternals;
  private readonly ctx: GossipValidationContext;
  private readonly counters = new Map<string, TopicCounters>();
  /** topics this instance subscribed to (and validates) */
  private readonly topics = new Set<string>();
  /** attestation subnets wanted by the subnet service; joined only while core topics are on */
  private readonly wantedSubnets = new Set<number>();
  private coreOn = false;
  private started = false;
  private readonly onMessage = (evt: CustomEvent<GossipsubMessage>) => this.forwardAccepted(evt.detail);

  constructor(private readonly opts: GossipOptions) {
    this.forkDigest = forkDigestHex(opts.forkDigest);
    this.pubsub = opts.libp2p.services.pubsub;
    this.internals = this.pubsub as unknown as GossipsubInternals;
    this.ctx = {
      config: opts.config,
      chain: opts.chain,
      pools: opts.pools,
      clock: opts.clock,
      bls: opts.bls ?? mainThreadBls,
      seen: new GossipSeenCaches(),
      onUnknownParent: opts.onUnknownParent,
      onUnknownBlockRoot: opts.onUnknownBlockRoot,
    };
  }

  /** Listens for accepted messages and installs the topic score parameters. Subscribes to nothing (subscribing starts it). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.pubsub.addEventListener("gossipsub:message", this.onMessage);
    if (this.opts.scoreTopics !== false) this.updateScoreParams();
  }

  /** Leaves every topic and stops listening. */
  stop(): void {
    if (!this.started) return;
    this.unsubscribeAll();
    this.wantedSubnets.clear();
    this.pubsub.removeEventListener("gossipsub:message", this.onMessage);
    this.started = false;
  }

  /**
   * Recomputes the topic score parameters from the active validator count (by default the anchor state's) and the
   * clock; the node may call it once an epoch (mesh delivery scoring starts once the chain is old enough).
   * Gossipsub reads them live.
   */
  updateScoreParams(activeValidatorCount?: number): void {
    const count = activeValidatorCount ?? this.opts.chain.anchorState.epochCtx.currentShuffling.activeIndices.length;
    const params = computeTopicScoreParams(this.opts.config, this.forkDigest, {
      activeValidatorCount: count,
      currentSlot: this.opts.clock.currentSlot(),
      meshMessageDeliveries: this.opts.meshMessageDeliveries,
    });
    Object.assign(this.internals.score.params.topics, params);
  }

  /** Joins the global topics, and the attestation subnets the subnet service wants. */
  subscribeCoreTopics(): void {
    this.start();
    this.coreOn = true;
    for (const name of CORE_TOPIC_NAMES) this.subscribe({ name, forkDigest: this.forkDigest });
    for (const subnet of this.wantedSubnets) this.subscribe({ name: "beacon_attestation", subnet, forkDigest: this.forkDigest });
  }

  /** Leaves every topic (while syncing); wanted subnets are kept and rejoined by subscribeCoreTopics(). */
  unsubscribeAll(): void {
    this.coreOn = false;
    for (const topic of [...this.topics]) this.unsubscribe(topic);
  }

  /** Joins these subnets now, or as soon as the core topics are on. Throws (changing nothing) on a bad subnet. */
  subscribeAttnets(subnets: number[]): void {
    subnets.forEach(checkSubnet);
    for (const subnet of subnets) {
      this.wantedSubnets.add(subnet);
      if (this.coreOn) this.subscribe({ name: "beacon_attestation", subnet, forkDigest: this.forkDigest });
    }
  }

  unsubscribeAttnets(subnets: number[]): void {
    subnets.forEach(checkSubnet);
    for (const subnet of subnets) {
      this.wantedSubnets.delete(subnet);
      this.unsubscribe(formatTopic({ name: "beacon_attestation", subnet, forkDigest: this.forkDigest }));
    }
  }

  /** Topics joined now. */
  getSubscribedTopics(): string[] {
    return [...this.topics];
  }

  isSubscribedToCore(): boolean {
    return this.coreOn;
  }

  // --- publishing: each returns how many peers the message went to --------------------------------------------

  publishBlock(signed: SignedBeaconBlock): Promise<number> {
    return this.publish({ name: "beacon_block", forkDigest: this.forkDigest }, this.opts.config.types.SignedBeaconBlock.serialize(signed));
  }

  publishAttestation(att: Attestation, subnet: number): Promise<number> {
    checkSubnet(subnet);
    return this.publish({ name: "beacon_attestation", subnet, forkDigest: this.forkDigest }, this.opts.config.types.Attestation.serialize(att));
  }

  publishAggregate(agg: SignedAggregateAndProof): Promise<number> {
    return this.publish({ name: "beacon_aggregate_and_proof", forkDigest: this.forkDigest }, this.opts.config.types.SignedAggregateAndProof.serialize(agg));
  }

  publishVoluntaryExit(exit: SignedVoluntaryExit): Promise<number> {
    return this.publish({ name: "voluntary_exit", forkDigest: this.forkDigest }, this.opts.config.types.SignedVoluntaryExit.serialize(exit));
  }

  publishProposerSlashing(slashing: ProposerSlashing): Promise<number> {
    return this.publish({ name: "proposer_slashing", forkDigest: this.forkDigest }, this.opts.config.types.ProposerSlashing.serialize(slashing));
  }

  publishAttesterSlashing(slashing: AttesterSlashing): Promise<number> {
    return this.publish({ name: "attester_slashing", forkDigest: this.forkDigest }, this.opts.config.types.AttesterSlashing.serialize(slashing));
  }

  // --- observation -------------------------------------------------------------------------------------------

  /** accept / ignore / reject counts per topic name (beacon_block, beacon_attestation_5, ...). */
  getCounters(): Record<string, TopicCounters> {
    const out: Record<string, TopicCounters> = {};
    for (const [name, c] of [...this.counters].sort(([a], [b]) => a.localeCompare(b))) out[name] = { ...c };
    return out;
  }

  /** The gossipsub score of a peer. */
  getPeerScore(peerId: PeerId | string): number {
    return this.internals.getScore(peerId.toString());
  }

  getMeshPeers(topic: GossipTopic): string[] {
    return this.internals.getMeshPeers(formatTopic(topic));
  }

  // --- internals -----------------------------------------------------------------------------------------------

  private subscribe(topic: GossipTopic): void {
    const str = formatTopic(topic);
    if (this.topics.has(str)) return;
    this.topics.add(str);
    this.pubsub.topicValidators.set(str, (peer, msg) => this.validate(topic, peer.toString(), msg));
    this.pubsub.subscribe(str);
  }

  private unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.pubsub.unsubscribe(topic);
    this.pubsub.topicValidators.delete(topic);
  }

  private async publish(topic: GossipTopic, ssz: Uint8Array): Promise<number> {
    const res = await this.pubsub.publish(formatTopic(topic), encodeGossipPayload(ssz));
    return res.recipients.length;
  }

  /** Gossipsub asks; every outcome is counted, a REJECT also reported to the peer manager. Never throws. */
  private async validate(topic: GossipTopic, peerId: string, msg: Message): Promise<TopicValidatorResult> {
    const name = topicNameOf(topic);
    let result: TopicValidatorResult;
    let reason = "";
    try {
      let decoded: Decoded;
      try {
        decoded = this.decode(topic, decodeMessageData(msg.data));
      } catch (e) {
        // every decode failure (bad snappy, too large, bad SSZ) is an invalid payload
        throw new GossipValidationError("reject", `undecodable message: ${(e as Error).message}`);
      }
      await this.validateDecoded(decoded, peerId);
      result = TopicValidatorResult.Accept;
    } catch (e) {
      if (e instanceof GossipValidationError) {
        result = toTopicValidatorResult(e.action);
        reason = e.message;
      } else {
        // our own failure, not the peer's
        result = TopicValidatorResult.Ignore;
        reason = `validation failed: ${(e as Error).message}`;
        this.opts.logger?.warn("gossip validation failed", { topic: name, error: reason });
      }
    }
    this.count(name, result);
    if (result === TopicValidatorResult.Reject) {
      this.opts.logger?.debug("gossip message rejected", { topic: name, peer: peerId, reason });
      this.penalize(peerId, `${name}: ${reason}`);
    } else if (result === TopicValidatorResult.Ignore) {
      this.opts.logger?.debug("gossip message ignored", { topic: name, peer: peerId, reason });
    }
    return result;
  }

  private decode(topic: GossipTopic, ssz: Uint8Array): Decoded {
    const t = this.opts.config.types;
    switch (topic.name) {
      case "beacon_block":
        return { name: topic.name, value: t.SignedBeaconBlock.deserialize(ssz) };
      case "beacon_aggregate_and_proof":
        return { name: topic.name, value: t.SignedAggregateAndProof.deserialize(ssz) };
      case "beacon_attestation":
        return { name: topic.name, value: t.Attestation.deserialize(ssz), subnet: topic.subnet };
      case "voluntary_exit":
        return { name: topic.name, value: t.SignedVoluntaryExit.deserialize(ssz) };
      case "proposer_slashing":
        return { name: topic.name, value: t.ProposerSlashing.deserialize(ssz) };
      case "attester_slashing":
        return { name: topic.name, value: t.AttesterSlashing.deserialize(ssz) };
    }
  }

  private async validateDecoded(d: Decoded, peerId: string): Promise<void> {
    switch (d.name) {
      case "beacon_block": {
        const gv = await validateGossipBlock(this.ctx, d.value, peerId);
        // its proposer signature is checked: the proposer is live (doppelganger protection asks)
        const { slot, proposerIndex } = d.value.message;
        this.opts.pools.recordLiveness(Math.floor(slot / this.opts.config.SLOTS_PER_EPOCH), [proposerIndex]);
        this.importBlock(gv, peerId);
        return;
      }
      case "beacon_aggregate_and_proof":
        return validateGossipAggregate(this.ctx, d.value, peerId);
      case "beacon_attestation":
        await validateGossipAttestation(this.ctx, d.value, d.subnet, peerId);
        return;
      case "voluntary_exit":
        return validateGossipVoluntaryExit(this.ctx, d.value);
      case "proposer_slashing":
        return validateGossipProposerSlashing(this.ctx, d.value);
      case "attester_slashing":
        return validateGossipAttesterSlashing(this.ctx, d.value);
    }
  }

  /** A block passed the gossip rules: import it, keeping what validation proved. A peer is blamed only as blockErrorOutcome() says. */
  private importBlock(gv: GossipVerifiedBlock, peerId: string): void {
    this.opts.chain.processBlock(gv).then(
      (r) => this.opts.logger?.debug("gossip block imported", { slot: gv.signed.message.slot, root: r.root, status: r.status }),
      (e: unknown) => {
        if (e instanceof BlockError && blockErrorOutcome(e).fault === "peer") this.penalize(peerId, `beacon_block: ${e.message}`);
        this.opts.logger?.debug("gossip block not imported", { slot: gv.signed.message.slot, error: (e as Error).message });
      },
    );
  }

  /** Only accepted messages reach here (validators run first): let gossipsub relay them and credit the sender. */
  private forwardAccepted(detail: GossipsubMessage): void {
    if (!this.topics.has(detail.msg.topic)) return;
    this.internals.reportMessageValidationResult(detail.msgId, detail.propagationSource.toString(), TopicValidatorResult.Accept);
  }

  private count(name: string, result: TopicValidatorResult): void {
    let c = this.counters.get(name);
    if (!c) {
      c = { accept: 0, ignore: 0, reject: 0 };
      this.counters.set(name, c);
    }
    if (result === TopicValidatorResult.Accept) c.accept++;
    else if (result === TopicValidatorResult.Ignore) c.ignore++;
    else c.reject++;
  }

  private penalize(peerId: string, reason: string): void {
    try {
      this.opts.onPeerPenalty?.(peerId, reason);
    } catch {
      // the peer manager's failure must not fail validation
    }
  }
}
