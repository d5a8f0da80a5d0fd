// Gossip topics (p2p-interface.md "Topics and messages"): `/eth2/{fork_digest}/{name}/ssz_snappy`, the fork digest
// as lowercase hex without 0x. Phase 0 has five global topics and ATTESTATION_SUBNET_COUNT attestation subnets.
import { ATTESTATION_SUBNET_COUNT } from "../../params/index.js";
import { toHex } from "../../util/bytes.js";

export const GOSSIP_ENCODING = "ssz_snappy";

/** The global topics (every node subscribes to these when it is synced). */
export const CORE_TOPIC_NAMES = ["beacon_block", "beacon_aggregate_and_proof", "voluntary_exit", "proposer_slashing", "attester_slashing"] as const;
export type CoreTopicName = (typeof CORE_TOPIC_NAMES)[number];
export type GossipTopicName = CoreTopicName | "beacon_attestation";

export type GossipTopic = { name: CoreTopicName; forkDigest: string } | { name: "beacon_attestation"; subnet: number; forkDigest: string };

export class GossipTopicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GossipTopicError";
  }
}

/** The ForkDigestValue of a topic: 4 bytes as 8 lowercase hex characters, no 0x. Accepts bytes or (0x-)hex. */
export function forkDigestHex(forkDigest: Uint8Array | string): string {
  const hex = typeof forkDigest === "string" ? forkDigest.toLowerCase().replace(/^0x/, "") : toHex(forkDigest).slice(2);
  if (!/^[0-9a-f]{8}$/.test(hex)) throw new GossipTopicError(`fork digest must be 4 bytes, got ${typeof forkDigest === "string" ? forkDigest : `${forkDigest.length} bytes`}`);
  return hex;
}

/** The topic's name part: `beacon_attestation_{subnet_id}` for subnets, the plain name otherwise. */
export function topicNameOf(topic: GossipTopic): string {
  return topic.name === "beacon_attestation" ? `beacon_attestation_${topic.subnet}` : topic.name;
}

export function formatTopic(topic: GossipTopic): string {
  if (topic.name === "beacon_attestation") checkSubnet(topic.subnet);
  return `/eth2/${forkDigestHex(topic.forkDigest)}/${topicNameOf(topic)}/${GOSSIP_ENCODING}`;
}

/** Parses a topic string; throws a GossipTopicError naming what is wrong. */
export function parseTopic(topic: string): GossipTopic {
  const parts = topic.split("/");
  // "", "eth2", digest, name, encoding
  if (parts.length !== 5 || parts[0] !== "" || parts[1] !== "eth2") throw new GossipTopicError(`not an eth2 topic: ${topic}`);
  const [, , digest, name, encoding] = parts;
  if (encoding !== GOSSIP_ENCODING) throw new GossipTopicError(`unsupported encoding ${encoding} in topic ${topic}`);
  if (!/^[0-9a-f]{8}$/.test(digest)) throw new GossipTopicError(`bad fork digest ${digest} in topic ${topic}`);
  if ((CORE_TOPIC_NAMES as readonly string[]).includes(name)) return { name: name as CoreTopicName, forkDigest: digest };
  const m = /^beacon_attestation_(0|[1-9][0-9]*)$/.exec(name);
  if (m) {
    const subnet = Number(m[1]);
    if (subnet < ATTESTATION_SUBNET_COUNT) return { name: "beacon_attestation", subnet, forkDigest: digest };
  }
  throw new GossipTopicError(`unknown topic name ${name} in topic ${topic}`);
}

export function checkSubnet(subnet: number): void {
  if (!Number.isInteger(subnet) || subnet < 0 || subnet >= ATTESTATION_SUBNET_COUNT) {
    throw new GossipTopicError(`attestation subnet must be an integer in [0, ${ATTESTATION_SUBNET_COUNT}), got ${subnet}`);
  }
}
